package main

func runSpeed(args []string) error { return nil }

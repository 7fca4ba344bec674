//go:build windows || plan9 || solaris || aix || android

package store

import "os"

// releaseLock is a no-op where bbolt does not lock with flock.
func releaseLock(*os.File) {}

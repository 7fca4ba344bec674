package main

import (
	"fmt"

	"github.com/facegate/facegate/internal/faceset"
)

// readGroups reads an identity → group table, or returns nil for no file.
func readGroups(file string) (map[string]string, error) {
	if file == "" {
		return nil, nil
	}
	return faceset.ReadGroups(file)
}

// openSet lists the photos of set and opens the --model backend of c with
// workers extraction workers, for the commands that extract a photo set.
func openSet(set string, c common, workers int) ([]photo, *backend, error) {
	photos, err := listSet(set)
	if err != nil {
		return nil, nil, err
	}
	if len(photos) == 0 {
		return nil, nil, fmt.Errorf("no photos in %s (want DIR/<identity>/<photo>)", set)
	}
	b, err := openBackend(c.model, c.models, workers)
	if err != nil {
		return nil, nil, err
	}
	return photos, b, nil
}

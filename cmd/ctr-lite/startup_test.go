package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// The binary is built with updatemaxprocs=0 (//go:debug in main.go): the
// runtime starts no goroutine of its own to update GOMAXPROCS.
func TestNoMaxProcsUpdater(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" && strings.Contains(","+s.Value+",", ",updatemaxprocs=0,") {
			return
		}
	}
	t.Errorf("DefaultGODEBUG lacks updatemaxprocs=0: the runtime updates GOMAXPROCS from a goroutine of its own")
}

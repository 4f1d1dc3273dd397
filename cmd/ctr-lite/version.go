package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Set at link time by the Makefile (-X main.version=... -X main.gitCommit=...).
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "ctr-lite version %s\n", version)
	if gitCommit != "" {
		fmt.Fprintf(w, "commit: %s\n", gitCommit)
	}
	fmt.Fprintf(w, "spec: %s\n", specs.Version)
	fmt.Fprintf(w, "go: %s\n", runtime.Version())
}

var versionCommand = &command{
	name:  "version",
	args:  "",
	short: "print the version",
	run: func(g *globals, _ *flag.FlagSet, _ []string) error {
		printVersion(g.stdout)
		return nil
	},
}

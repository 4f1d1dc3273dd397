package main

import (
	"errors"

	"github.com/ctr-lite/ctr-lite/container"
)

// oneID returns the single container ID argument.
func oneID(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("container ID is required")
	case 1:
		return args[0], nil
	default:
		return "", usagef("expected one container ID, got %d arguments", len(args))
	}
}

// opError prefixes an error with the operation and the container:
// `create "web": ...`.
func opError(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, container.ErrNotExist) {
		return errorf("%s %q: container does not exist", op, id)
	}
	if errors.Is(err, container.ErrExist) {
		return errorf("%s %q: container with this ID already exists", op, id)
	}
	return errorf("%s %q: %w", op, id, err)
}

func rootOf(g *globals) container.Root {
	return container.Root{Dir: g.root, Warn: g.log.Warnf, Explain: g.explainOut()}
}

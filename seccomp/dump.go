package seccomp

import (
	"fmt"
	"io"
	"strings"
)

// Dump writes the program readably: a header, then one instruction per
// line with its index, absolute jump targets and what it checks.
func (f *Filter) Dump(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# seccomp BPF for %s: %d instructions; accepts %s; default %s; other ABIs %s\n",
		f.Arch.Name, len(f.Program), abiNames(f.Arches), ActionString(f.Default), ActionString(BadArchAction)); err != nil {
		return err
	}
	return Disassemble(w, f.Program, f.Comments)
}

// Summary writes what the profile amounts to on this ABI.
func (f *Filter) Summary(w io.Writer) error {
	flags := "none"
	if len(f.FlagNames) > 0 {
		flags = strings.Join(f.FlagNames, ", ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "native architecture: %s\n", f.Arch.Name)
	fmt.Fprintf(&b, "architectures:       %s (others: %s)\n", strings.ReplaceAll(abiNames(f.Arches), "/", ", "), ActionString(BadArchAction))
	fmt.Fprintf(&b, "default action:      %s\n", ActionString(f.Default))
	fmt.Fprintf(&b, "flags:               %s\n", flags)
	fmt.Fprintf(&b, "instructions:        %d (kernel limit %d)\n", len(f.Program), maxInsns)
	for _, a := range f.Arches {
		fmt.Fprintf(&b, "%s: %d syscalls with rules", a.Name, f.Rules[a.Name])
		if last, ok := f.LastSyscall[a.Name]; ok {
			fmt.Fprintf(&b, "; numbers above %s (newer than the profile): ERRNO(ENOSYS)", imm(last))
		}
		if n := f.Absent[a.Name]; len(n) > 0 {
			fmt.Fprintf(&b, "; %d names are no syscall there: %s", len(n), strings.Join(n, " "))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

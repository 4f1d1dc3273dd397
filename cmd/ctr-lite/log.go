package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ctr-lite/ctr-lite/container"
)

// logger writes runc's log lines: text ("ctr-lite: msg") or JSON
// ({"level":"error","msg":"...","time":"..."}), which containerd-shim and
// conmon read back to report a failure.
type logger struct {
	w      io.Writer
	file   *os.File
	json   bool
	debug  bool
	stderr io.Writer
}

func newLogger(path, format string, debug bool, stderr io.Writer) (*logger, error) {
	l := &logger{w: stderr, debug: debug, stderr: stderr}
	switch format {
	case "text":
	case "json":
		l.json = true
	default:
		return nil, errorf("--log-format %q: must be text or json", format)
	}
	if path == "" {
		return l, nil
	}
	f, err := container.OpenLogFile(path)
	if err != nil {
		return nil, err
	}
	l.file, l.w = f, f
	return l, nil
}

func (l *logger) Close() {
	if l.file != nil {
		l.file.Close()
	}
}

func (l *logger) Debugf(format string, args ...any) {
	if l.debug {
		l.write("debug", fmt.Sprintf(format, args...))
	}
}

func (l *logger) Warnf(format string, args ...any) {
	l.write("warning", fmt.Sprintf(format, args...))
}

// Errorf logs an error. With --log, the line goes to the log file and the
// message also to stderr, as runc does, so a user at a terminal sees it.
func (l *logger) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.write("error", msg)
	if l.file != nil {
		fmt.Fprintf(l.stderr, "ctr-lite: %s\n", msg)
	}
}

func (l *logger) write(level, msg string) {
	if !l.json {
		if level == "error" {
			fmt.Fprintf(l.w, "ctr-lite: %s\n", msg)
			return
		}
		fmt.Fprintf(l.w, "ctr-lite: %s: %s\n", level, msg)
		return
	}
	line, _ := json.Marshal(struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Time  string `json:"time"`
	}{level, msg, time.Now().Format(time.RFC3339Nano)})
	fmt.Fprintf(l.w, "%s\n", line)
}

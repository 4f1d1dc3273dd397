package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Decode reads a profile: either a linux.seccomp object, or a whole OCI
// config.json whose linux.seccomp is taken. The seccomp object is read
// strictly: an unknown field (a typo, or Docker's own profile format with
// archMap/includes, which is not a linux.seccomp object) is an error
// rather than a silently weaker filter.
func Decode(data []byte) (*specs.LinuxSeccomp, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(data, err)
	}
	raw := json.RawMessage(data)
	_, hasLinux := top["linux"]
	_, hasVersion := top["ociVersion"]
	if hasLinux || hasVersion {
		var cfg struct {
			Linux *struct {
				Seccomp json.RawMessage `json:"seccomp"`
			} `json:"linux"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, jsonError(data, err)
		}
		if cfg.Linux == nil || len(cfg.Linux.Seccomp) == 0 || string(cfg.Linux.Seccomp) == "null" {
			return nil, errors.New("config.json has no linux.seccomp")
		}
		raw = cfg.Linux.Seccomp
	}
	var s specs.LinuxSeccomp
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, jsonError(raw, err)
	}
	if s.DefaultAction == "" {
		return nil, errors.New("defaultAction missing")
	}
	return &s, nil
}

// jsonError adds the line number to a JSON syntax error.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return errorf("malformed JSON at line %d: %w", line, err)
	}
	return errorf("malformed JSON: %w", err)
}

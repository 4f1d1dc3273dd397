package container

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/process"
)

func baseSpec() *specs.Spec {
	s := DefaultSpec()
	s.Process.Terminal = false
	return s
}

func TestValidateLater(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *specs.Spec)
		err  string
	}{
		{"default", func(s *specs.Spec) {}, ""},
		{"cgroup twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "cgroup"})
		}, `namespace type "cgroup" listed twice`},
		{"net and network", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "net"})
		}, "listed twice"},
		{"unknown type", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, "unknown namespace kind"},
		{"uid -1", func(s *specs.Spec) { s.Process.User.UID = 4294967295 }, "process.user.uid 4294967295"},
		{"mapping size 0", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 0}}
		}, "size 0"},
		{"mapping wraps", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 1, HostID: 1000, Size: 4294967295}}
		}, "containerID+size-1 4294967295"},
		{"mapping at the top", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2147418112, Size: 65536}}
		}, ""},
		{"mount gid", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"gid=-5"}})
		}, "option gid=-5"},
		{"mount uid ok", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Options: []string{"uid=1000", "mode=755"}})
		}, ""},
		{"env NUL", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "A=b\x00c") }, "NUL"},
		{"env empty name", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "=x") }, "empty name"},
		{"bad personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} }, "personality"},
	}
	for _, tt := range tests {
		s := baseSpec()
		tt.edit(s)
		err := validateLater(s)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}

// FuzzValidateConfig: any config.json that passes create's checks has
// every uid and gid in 0..MaxID, each namespace type once, and no env
// entry that the init would refuse.
func FuzzValidateConfig(f *testing.F) {
	base, _ := json.Marshal(baseSpec())
	f.Add(base)
	for _, edit := range []func(s *specs.Spec){
		func(s *specs.Spec) { s.Process.User.UID = 4294967295 },
		func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{2147483648} },
		func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "cgroup"})
		},
		func(s *specs.Spec) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 4294967295, HostID: 0, Size: 1}}
		},
		func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"uid=4294967295"}})
		},
		func(s *specs.Spec) { s.Process.Env = []string{"NOEQUALS"} },
	} {
		s := baseSpec()
		edit(s)
		data, _ := json.Marshal(s)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s specs.Spec
		if json.Unmarshal(data, &s) != nil || s.Process == nil || s.Linux == nil {
			return
		}
		if validateLater(&s) != nil {
			return
		}
		u := s.Process.User
		ids := append([]uint32{u.UID, u.GID}, u.AdditionalGids...)
		for _, ms := range [][]specs.LinuxIDMapping{s.Linux.UIDMappings, s.Linux.GIDMappings} {
			for _, m := range ms {
				if m.Size == 0 {
					t.Fatalf("mapping of size 0 accepted: %+v", m)
				}
				if uint64(m.ContainerID)+uint64(m.Size)-1 > process.MaxID || uint64(m.HostID)+uint64(m.Size)-1 > process.MaxID {
					t.Fatalf("mapping %+v accepted", m)
				}
			}
		}
		for _, id := range ids {
			if id > process.MaxID {
				t.Fatalf("id %d accepted", id)
			}
		}
		seen := map[string]bool{}
		for _, ns := range s.Linux.Namespaces {
			k := string(ns.Type)
			if k == "net" {
				k = "network"
			}
			if k == "mnt" {
				k = "mount"
			}
			if seen[k] {
				t.Fatalf("namespace %s twice accepted", k)
			}
			seen[k] = true
		}
		if err := process.ValidateEnv(s.Process.Env); err != nil {
			t.Fatal(errors.Join(errors.New("env accepted"), err))
		}
	})
}

package namespaces

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseIDMapping(t *testing.T) {
	m, err := ParseIDMapping("0:1000:65536")
	if err != nil || m != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1000, Size: 65536}) {
		t.Fatalf("ParseIDMapping = %+v, %v", m, err)
	}
	if s := FormatIDMapping(m); s != "0:1000:65536" {
		t.Errorf("FormatIDMapping = %q", s)
	}
	for _, bad := range []string{"", "0:1000", "0:1000:1:2", "a:1:1", "0:-1:1", "0:1:0", "0:1:4294967296"} {
		if _, err := ParseIDMapping(bad); err == nil {
			t.Errorf("ParseIDMapping(%q) succeeded", bad)
		}
	}
}

func TestMapFile(t *testing.T) {
	got := mapFile([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65535}})
	if want := "0 1000 1\n1 100000 65535\n"; got != want {
		t.Errorf("mapFile = %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	root := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	ns := func(kv ...string) []specs.LinuxNamespace {
		var out []specs.LinuxNamespace
		for i := 0; i < len(kv); i += 2 {
			out = append(out, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(kv[i]), Path: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"new and joined", Config{Path: "/bin/sh", Namespaces: ns("pid", "", "network", "/proc/1/ns/net", "mount", "")}, ""},
		{"user with maps", Config{Path: "/bin/sh", Namespaces: ns("user", ""), UIDMappings: root, GIDMappings: root}, ""},
		{"unknown kind", Config{Path: "/bin/sh", Namespaces: ns("foo", "")}, `unknown namespace kind "foo"`},
		{"twice", Config{Path: "/bin/sh", Namespaces: ns("net", "", "network", "/x")}, "net listed twice"},
		{"maps without user", Config{Path: "/bin/sh", UIDMappings: root}, "need a new user namespace"},
		{"user without maps", Config{Path: "/bin/sh", Namespaces: ns("user", "")}, "needs uid and gid mappings"},
		{"hostname without uts", Config{Path: "/bin/sh", Hostname: "h"}, "needs a new uts namespace"},
		{"hostname with joined uts", Config{Path: "/bin/sh", Hostname: "h", Namespaces: ns("uts", "/proc/1/ns/uts")}, "needs a new uts namespace"},
		{"propagation without mnt", Config{Path: "/bin/sh", RootPropagation: 1}, "needs a new mount namespace"},
		{"no command", Config{Namespaces: ns("uts", "")}, "no command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.c.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				for i := 1; i < len(p.joins); i++ {
					if p.joins[i].kind < p.joins[i-1].kind {
						t.Errorf("joins out of order: %v", p.joins)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateOrdersJoinsUserFirstMountLast(t *testing.T) {
	c := Config{Path: "/bin/sh", Namespaces: []specs.LinuxNamespace{
		{Type: "mount", Path: "/a"}, {Type: "network", Path: "/b"}, {Type: "user", Path: "/c"}, {Type: "time", Path: "/d"},
		{Type: "pid"}, {Type: "uts"},
	}}
	p, err := c.validate()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range p.joins {
		got = append(got, j.kind.String())
	}
	if strings.Join(got, ",") != "user,net,time,mnt" {
		t.Errorf("join order = %v", got)
	}
	if FormatFlags(p.newFlags) != "CLONE_NEWUTS|CLONE_NEWPID" {
		t.Errorf("new = %s", FormatFlags(p.newFlags))
	}
}

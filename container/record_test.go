package container

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// What state and list print comes from the small status record when it
// is there and from state.json otherwise (a container made by an older
// ctr-lite, a record too large for one read, a create that got no
// further than the directory), and is the same either way. A container
// whose create has not ended does not exist for them (runc 1.1 has no
// state.json yet), whichever file is read.
func TestRecordMatchesState(t *testing.T) {
	big := map[string]string{"k": strings.Repeat("v", maxRecord)}
	tests := []struct {
		name     string
		ann      map[string]string
		noSave   bool // the directory only, as a create just begun
		creating bool // saved with Creating, as during create's hooks
		dropRec  bool // no status.json, as from an older ctr-lite
	}{
		{name: "record"},
		{name: "annotations", ann: map[string]string{"org.example/a": "1", "b": "two"}},
		{name: "no record", ann: map[string]string{"a": "1"}, dropRec: true},
		{name: "record larger than one read", ann: big},
		{name: "being created", noSave: true},
		{name: "creating", creating: true},
		{name: "creating without record", creating: true, dropRec: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Root{Dir: filepath.Join(t.TempDir(), "root")}
			h, err := r.Reserve("c1")
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			var want *Report
			if !tc.noSave {
				h.State = State{ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", Pid: 1 << 30, PidStart: 7,
					Created: time.Date(2026, 11, 30, 1, 2, 3, 4, time.UTC),
					Config:  &specs.Spec{Version: specs.Version, Annotations: tc.ann}, CgroupPath: "c1",
					Creating: tc.creating}
				if err := h.Save(); err != nil {
					t.Fatal(err)
				}
				// Pid 1<<30 runs nowhere: stopped, no pid shown.
				want = &Report{Version: specs.Version, ID: "c1", Status: string(specs.StateStopped), Bundle: "/b",
					Rootfs: "/b/rootfs", Created: h.State.Created, Annotations: tc.ann}
			}
			if tc.dropRec {
				if err := os.Remove(filepath.Join(h.Dir, statusFile)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.noSave || tc.creating {
				if got, err := r.Describe("c1"); err != ErrNotExist {
					t.Errorf("Describe = %+v, %v; want ErrNotExist", got, err)
				}
				if got, err := r.Load("c1"); err != ErrNotExist {
					t.Errorf("Load = %+v, %v; want ErrNotExist", got, err)
				}
				var warned []string
				r.Warn = func(f string, a ...any) { warned = append(warned, fmt.Sprintf(f, a...)) }
				list, err := r.List()
				ids, ierr := r.ListIDs()
				if err != nil || len(list) != 0 || ierr != nil || len(ids) != 0 {
					t.Errorf("List = %+v, %v; ListIDs = %q, %v; want none", list, err, ids, ierr)
				}
				if w := "load container c1: container does not exist"; len(warned) != 2 || warned[0] != w || warned[1] != w {
					t.Errorf("warnings %q, want runc's %q from List and ListIDs", warned, w)
				}
				return
			}
			got, err := r.Describe("c1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Describe = %+v, want %+v", got, want)
			}
			// list adds the owner of the state directory.
			owned := *want
			owned.Owner = ownerName(int64(os.Geteuid()))
			list, err := r.List()
			if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], &owned) {
				t.Errorf("List = %+v, %v; want [%+v]", list, err, &owned)
			}
			if ids, err := r.ListIDs(); err != nil || len(ids) != 1 || ids[0] != "c1" {
				t.Errorf("ListIDs = %q, %v; want [c1]", ids, err)
			}
		})
	}
}

// A corrupt record is an error naming the file, as a corrupt state is.
func TestRecordCorrupt(t *testing.T) {
	r := Root{Dir: filepath.Join(t.TempDir(), "root")}
	h, err := r.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.State = State{ID: "c1", Config: &specs.Spec{}}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.Dir, statusFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Describe("c1"); err == nil || !strings.Contains(err.Error(), statusFile) {
		t.Errorf("Describe of a corrupt record: %v", err)
	}
}

// The record decoded by state and list names no specs.Spec: encoding/json
// builds the encoders of every type reachable from the one it decodes,
// and the spec's (hundreds of fields) took most of a `state`'s time. The
// file still says "config":null, as before.
func TestRecordDecodesNoSpec(t *testing.T) {
	specType := reflect.TypeOf(specs.Spec{})
	seen := map[reflect.Type]bool{}
	var reaches func(reflect.Type) bool
	reaches = func(ty reflect.Type) bool {
		if ty == specType {
			return true
		}
		if seen[ty] {
			return false
		}
		seen[ty] = true
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			return reaches(ty.Elem())
		case reflect.Struct:
			// The fields encoding/json sees: a promoted field hidden by
			// a shallower one of the same name is not among them.
			for _, f := range reflect.VisibleFields(ty) {
				if f.IsExported() && !f.Anonymous && reaches(f.Type) {
					return true
				}
			}
		}
		return false
	}
	if reaches(reflect.TypeOf(record{})) {
		t.Errorf("record reaches specs.Spec: decoding status.json builds the spec's encoders")
	}

	r := Root{Dir: filepath.Join(t.TempDir(), "root")}
	h, err := r.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.State = State{ID: "c1", Pid: 1 << 30, Config: &specs.Spec{Version: specs.Version, Hostname: "h"}}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(h.Dir, statusFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"config":null`) || strings.Contains(string(data), `"hostname"`) {
		t.Errorf("status.json = %s; want \"config\":null and no config", data)
	}
}

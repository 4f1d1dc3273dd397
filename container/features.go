package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/ctr-lite/ctr-lite/caps"
	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/seccomp"
)

func boolp(b bool) *bool { return &b }

// Features is what this runtime supports (features.md), for `features`.
func Features() *features.Features {
	var nss []string
	for _, k := range namespaces.Kinds() {
		nss = append(nss, string(k.SpecType()))
	}
	var capNames []string
	for _, c := range caps.Known() {
		capNames = append(capNames, caps.Name(c))
	}
	var archs []string
	for _, a := range seccomp.Arches() {
		archs = append(archs, string(a.Name))
	}
	mode := cgroups.HostMode()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   nss,
			Capabilities: capNames,
			Cgroup: &features.Cgroup{
				V1:      boolp(true),
				V2:      boolp(true),
				Systemd: boolp(false),
			},
			Seccomp: &features.Seccomp{
				Enabled: boolp(true),
				Actions: []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
					"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"},
				Operators: []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
					"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"},
				Archs:          archs,
				KnownFlags:     []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
				SupportedFlags: []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
			},
			Apparmor: &features.Apparmor{Enabled: boolp(process.AppArmorEnabled())},
			Selinux:  &features.Selinux{Enabled: boolp(process.SELinuxEnabled())},
			IntelRdt: &features.IntelRdt{Enabled: boolp(false)},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: boolp(false)},
			},
		},
		Annotations: map[string]string{
			"org.ctr-lite.cgroup.mode": mode.String(),
		},
	}
}

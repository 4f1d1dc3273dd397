package rootfs

import "sort"

// MountOptions lists the mount options the rootfs package understands
// itself (flags and propagation; filesystem data such as "size=" passes
// through): the "mountOptions" of `ctr-lite features`.
func MountOptions() []string {
	var opts []string
	for _, o := range flagOptions {
		opts = append(opts, o.name)
	}
	for _, o := range propagationOptions {
		opts = append(opts, o.name)
	}
	for _, o := range recAttrOptions {
		opts = append(opts, o.name)
	}
	opts = append(opts, "tmpcopyup")
	sort.Strings(opts)
	return opts
}

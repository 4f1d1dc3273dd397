package procfs

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// InUserNS says whether this process runs in a user namespace other
// than the initial one: /proc/self/uid_map is not the identity map
// "0 0 4294967295" (user_namespaces(7)). Read once and cached. A missing
// or unreadable uid_map (no user namespace support) is false. It is
// moby/sys/userns.RunningInUserNS without fmt's scanner in the binary.
var InUserNS = sync.OnceValue(func() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil || len(data) == 0 {
		return false
	}
	return uidMapInUserNS(data)
})

// uidMapInUserNS reads the first line of a uid_map: empty (a new user
// namespace whose map is not written yet) is true, a line that is not
// three numbers is false, else true unless it is the initial namespace's
// identity map.
func uidMapInUserNS(data []byte) bool {
	line, _, _ := strings.Cut(string(data), "\n")
	if line == "" {
		return true
	}
	f := strings.Fields(line)
	if len(f) < 3 {
		return false
	}
	var n [3]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return false
		}
		n[i] = v
	}
	return !(n[0] == 0 && n[1] == 0 && n[2] == 4294967295)
}

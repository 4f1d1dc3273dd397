package seccomp

//go:generate go run ./internal/gen -o zsyscalls.go

// Cells of syscallNrs that are not a number less tableBase.
const (
	nrARMPrivate = 0xff00 // + n: __ARM_NR_BASE (0xf0000) + n
	nrAbsent     = 0xffff // the column's ABI has no such syscall
)

// syscallName returns name i of syscallNames.
func syscallName(i int) string {
	start := 0
	if i > 0 {
		start = int(syscallNameEnd[i-1])
	}
	return syscallNames[start:syscallNameEnd[i]]
}

// syscallNr returns the number of syscall i in column c of tableArches, as
// the kernel puts it in seccomp_data.nr.
func syscallNr(i, c int) (uint32, bool) {
	switch v := syscallNrs[i][c]; {
	case v == nrAbsent:
		return 0, false
	case v >= nrARMPrivate:
		return 0xf0000 + uint32(v-nrARMPrivate), true
	default:
		return tableBase[c] + uint32(v), true
	}
}

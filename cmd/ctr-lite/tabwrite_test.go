package main

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestTabWriterIsTextTabwriter: the same bytes as text/tabwriter with
// padchar ' ' and no flags, for the tables cmd/ prints and for odd input
// (blocks of different cell counts, one-cell lines, '\v', '\f', Escape,
// wide runes, invalid UTF-8, no final newline, writes split anywhere).
func TestTabWriterIsTextTabwriter(t *testing.T) {
	inputs := []string{
		"",
		"ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\nweb\t42\trunning\t/b\t2026-11-30T23:00:00Z\troot\n",
		"ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n",
		"KIND\tCONTAINER\tHOST\t\nnet\t4026531840\t4026531840\tshared with the host\n",
		"a\tb\tc\nlonger cell\tx\ny\n\tonly\tafter\none cell\nz\tq\n",
		"a\tb\n\n\tc\td\te\nf\n",
		"no newline\tat\tthe end",
		"tab at end\t",
		"\t\t\t\n\t\t\n",
		"x\vy\tz\fw\tv\nu\tt\n",
		"esc\xffa\tb\xff\tc\nd\te\n",
		"unterminated \xffescape\tx\n",
		"ünïcödé\tâ\nb\tc\n",
		"bad \xfe utf8\tx\nyy\tz\n",
	}
	const alphabet = "ab\t\n\v\f\xffé "
	r := rand.New(rand.NewSource(1))
	for range 300 {
		var b strings.Builder
		for range r.Intn(60) {
			b.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, p := range [][2]int{{12, 3}, {0, 2}, {0, 0}, {5, 1}} {
		for _, in := range inputs {
			var want, got bytes.Buffer
			tw := tabwriter.NewWriter(&want, p[0], 8, p[1], ' ', 0)
			ow := newTabWriter(&got, p[0], p[1])
			// Write in two parts split at a random place, as fmt.Fprintf calls do.
			cut := r.Intn(len(in) + 1)
			tw.Write([]byte(in[:cut]))
			tw.Write([]byte(in[cut:]))
			tw.Flush()
			ow.Write([]byte(in[:cut]))
			ow.Write([]byte(in[cut:]))
			ow.Flush()
			if got.String() != want.String() {
				t.Errorf("minwidth %d padding %d, input %q:\n got %q\nwant %q", p[0], p[1], in, got.String(), want.String())
			}
		}
	}
}

// TestTabWriterWritesAtFlushPoints: what comes before a one-cell line is
// written out then, so that writes straight to the output after it
// (inspect's section titles) come after the table, as with tabwriter.
func TestTabWriterWritesAtFlushPoints(t *testing.T) {
	var got bytes.Buffer
	w := newTabWriter(&got, 0, 2)
	w.Write([]byte("a\tbb\nccc\td\n"))
	if got.Len() != 0 {
		t.Fatalf("written before a flush point: %q", got.String())
	}
	w.Write([]byte("title\n"))
	if want := "a    bb\nccc  d\ntitle\n"; got.String() != want {
		t.Fatalf("got %q, want %q", got.String(), want)
	}
}

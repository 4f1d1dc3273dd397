package main

import (
	"io"
	"unicode/utf8"
)

// tabWriter aligns tab-separated cells into columns exactly as
// text/tabwriter.NewWriter(out, minwidth, tabwidth, padding, ' ', 0) does
// (tabwidth only matters when padding with tabs), which runc's `list` uses:
// the same column blocks, the same flush on a line of one cell, '\v' and
// '\f' as tabwriter reads them, and text between two tabwriter.Escape
// (0xff) bytes kept in one cell and its width less the two escapes. It
// is the subset of text/tabwriter that cmd/ needs, without its 8 KB of
// code (and 14 KB of binary with its line tables) in a binary that must
// fit in 4 MiB.
type tabWriter struct {
	out               io.Writer
	minwidth, padding int

	buf     []byte // text of the cells not yet written
	pos     int    // buf offset of the text not yet measured
	cell    twCell // the cell being read
	escaped bool   // inside an Escape ... Escape run
	lines   [][]twCell
	widths  []int  // the widths of the column blocks being formatted
	pending []byte // formatted output, written at each flush
}

type twCell struct{ size, width int }

const twEscape = '\xff' // text/tabwriter.Escape

func newTabWriter(out io.Writer, minwidth, padding int) *tabWriter {
	w := &tabWriter{out: out, minwidth: minwidth, padding: padding}
	w.reset()
	return w
}

func (w *tabWriter) reset() {
	w.buf, w.pos, w.cell, w.escaped = w.buf[:0], 0, twCell{}, false
	w.lines, w.widths = append(w.lines[:0], nil), w.widths[:0]
}

func (w *tabWriter) appendText(text []byte) {
	w.buf = append(w.buf, text...)
	w.cell.size += len(text)
}

func (w *tabWriter) updateWidth() {
	w.cell.width += utf8.RuneCount(w.buf[w.pos:])
	w.pos = len(w.buf)
}

func (w *tabWriter) endEscape() {
	w.updateWidth()
	w.cell.width -= 2 // the two Escape bytes take no column
	w.escaped = false
}

func (w *tabWriter) terminateCell() int {
	line := &w.lines[len(w.lines)-1]
	*line = append(*line, w.cell)
	w.cell = twCell{}
	return len(*line)
}

// Write buffers p; a line of one cell, or a '\f', ends the column blocks
// and writes what came before it.
func (w *tabWriter) Write(p []byte) (int, error) {
	n := 0
	for i, ch := range p {
		if w.escaped {
			if ch == twEscape {
				w.appendText(p[n : i+1])
				n = i + 1
				w.endEscape()
			}
			continue
		}
		switch ch {
		case '\t', '\v', '\n', '\f':
			w.appendText(p[n:i])
			w.updateWidth()
			n = i + 1
			ncells := w.terminateCell()
			if ch == '\n' || ch == '\f' {
				w.lines = append(w.lines, nil)
				if ch == '\f' || ncells == 1 {
					if err := w.flush(); err != nil {
						return i + 1, err
					}
				}
			}
		case twEscape:
			w.appendText(p[n:i])
			w.updateWidth()
			n = i
			w.escaped = true
		}
	}
	w.appendText(p[n:])
	return len(p), nil
}

// Flush writes all that was written, the last line without a newline
// unless it had one.
func (w *tabWriter) Flush() error { return w.flush() }

func (w *tabWriter) flush() error {
	if w.cell.size > 0 {
		if w.escaped {
			w.endEscape()
		}
		w.terminateCell()
	}
	w.format(0, 0, len(w.lines))
	out := w.pending
	w.pending = w.pending[:0]
	w.reset()
	if len(out) == 0 {
		return nil
	}
	_, err := w.out.Write(out)
	return err
}

func (w *tabWriter) pad(textw, cellw int) {
	for ; textw < cellw; textw++ {
		w.pending = append(w.pending, ' ')
	}
}

func (w *tabWriter) writeLines(pos, line0, line1 int) int {
	for i := line0; i < line1; i++ {
		for j, c := range w.lines[i] {
			if c.size > 0 {
				w.pending = append(w.pending, w.buf[pos:pos+c.size]...)
				pos += c.size
			}
			if j < len(w.widths) {
				w.pad(c.width, w.widths[j])
			}
		}
		if i+1 == len(w.lines) {
			w.pending = append(w.pending, w.buf[pos:pos+w.cell.size]...)
			pos += w.cell.size
		} else {
			w.pending = append(w.pending, '\n')
		}
	}
	return pos
}

// format is text/tabwriter's: a column block is a run of lines with a
// cell in this column that is not the line's last; its width is the
// widest cell plus padding, at least minwidth.
func (w *tabWriter) format(pos, line0, line1 int) int {
	column := len(w.widths)
	for this := line0; this < line1; this++ {
		if column >= len(w.lines[this])-1 {
			continue
		}
		pos = w.writeLines(pos, line0, this)
		line0 = this
		width := w.minwidth
		for ; this < line1; this++ {
			line := w.lines[this]
			if column >= len(line)-1 {
				break
			}
			if cw := line[column].width + w.padding; cw > width {
				width = cw
			}
		}
		w.widths = append(w.widths, width)
		pos = w.format(pos, line0, this)
		w.widths = w.widths[:len(w.widths)-1]
		line0 = this
	}
	return w.writeLines(pos, line0, line1)
}

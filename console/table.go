package console

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Table runs query on db and prints the rows it returns under title, in a
// box, as a connector SDK's debug run prints the table it filled. Long
// values are cut short and newlines shown as " / ", so that each row
// stays on one line; on a terminal the widest columns are cut further
// until the box fits its width. NULL prints as NULL.
func Table(ctx context.Context, w io.Writer, db *sql.DB, title, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("console: table: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("console: table: %w", err)
	}
	cells := [][]string{cols}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("console: table: %w", err)
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			line[i] = cell(v)
		}
		cells = append(cells, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("console: table: %w", err)
	}
	fmt.Fprintf(w, "\n%s\n", title)
	printGrid(w, cells, terminalWidth(w))
	return nil
}

// maxCell is the widest a cell is printed, in runes.
const maxCell = 36

func cell(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	s := strings.ReplaceAll(v.String, "\n", " / ")
	if utf8.RuneCountInString(s) > maxCell {
		r := []rune(s)
		s = string(r[:maxCell-1]) + "…"
	}
	return s
}

// terminalWidth returns the width of the terminal w writes to, or 0 when
// it is not one.
func terminalWidth(w io.Writer) int {
	if IsTerminal(w) {
		return Width(w)
	}
	return 0
}

// minColumn is the narrowest a column is cut to so that a box fits.
const minColumn = 8

// columnWidths returns the width of each column of cells.
func columnWidths(cells [][]string) []int {
	widths := make([]int, len(cells[0]))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	return widths
}

// gridWidth returns the columns a box of columns of these widths takes.
func gridWidth(widths []int) int {
	total := 1
	for _, n := range widths {
		total += n + 3
	}
	return total
}

// printGrid prints cells, the first row being the header, in a box that
// fits in width columns (0: any width), cutting the widest columns' cells
// as needed.
func printGrid(w io.Writer, cells [][]string, width int) {
	widths := columnWidths(cells)
	if width > 0 {
		for total := gridWidth(widths); total > width-1; total-- {
			widest := 0
			for i, n := range widths {
				if n > widths[widest] {
					widest = i
				}
			}
			if widths[widest] <= minColumn {
				break
			}
			widths[widest]--
		}
		for _, line := range cells {
			for i := range line {
				line[i] = cut(line[i], widths[i])
			}
		}
	}
	rule := func() {
		var b strings.Builder
		for _, n := range widths {
			b.WriteString("+" + strings.Repeat("-", n+2))
		}
		fmt.Fprintln(w, b.String()+"+")
	}
	rule()
	for i, line := range cells {
		var b strings.Builder
		for j, c := range line {
			b.WriteString("| " + c + strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)) + " ")
		}
		fmt.Fprintln(w, b.String()+"|")
		if i == 0 {
			rule()
		}
	}
	rule()
}

package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The configuration a user fills in stays one a person can hold in mind:
// no config struct of the library has more than about a dozen fields of
// its own (a named group counts as one), and no exported field of a
// library package has more than one short paragraph of doc; the long
// explanations belong in the package doc or in docs/.
func TestConfigShape(t *testing.T) {
	const (
		maxFields  = 12
		maxDocLine = 8 // one short paragraph; Options had fields of 20 to 35 lines
	)
	// The structs that may have more fields than maxFields, and how many.
	// Lower a number when a struct sheds fields; raise one only with a
	// reason here.
	allowed := map[string]int{
		// Four named groups, the page size and its parameter, and a
		// token's sources (one of four), its parameter and first value,
		// ByPosition, Expired and ResendParams.
		"strategies.NextToken": 15,
		// Where the checkpoint is kept (4), the records' marks and
		// identity (2), Checks, Retry, Concurrency, Prefetch, Group,
		// Limits, Logger, Observe.
		"paginate.Options": 14,
		// The YAML spec's paging section: the union of the four
		// strategies' settings, of which one strategy reads at most ten.
		"spec.Paging": 23,
	}
	// The structs a user fills in, by package.
	config := map[string][]string{
		"paginate":   {"Options", "Checks", "Limits", "Retry", "Group"},
		"strategies": {"PageNumber", "Offset", "Cursor", "NextToken", "Request", "Shape", "Window", "Limits", "Timeouts", "Expiry"},
		"connector":  {"Config", "ChildOf", "Limits"},
		"console":    {"Flags"},
		"spec":       {"Spec", "Stream", "Paging", "Request", "Response", "Settings"},
	}
	root := ".."
	seen := make(map[string]bool)
	for _, dir := range libraryDirs(t, root) {
		pkg, structs := parseStructs(t, filepath.Join(root, dir))
		for name, st := range structs {
			fields := 0
			for _, f := range st.Fields.List {
				exported := 0
				for _, n := range f.Names {
					if n.IsExported() {
						exported++
					}
				}
				if len(f.Names) == 0 {
					// An embedded type's fields are the struct's own to
					// whoever fills it in, though go doc shows one line.
					exported = max(1, ownFields(structs, f.Type))
				}
				fields += exported
				if exported > 0 && f.Doc != nil && len(f.Doc.List) > maxDocLine {
					t.Errorf("%s.%s.%s has %d lines of doc, want at most %d: one short paragraph, the rest in the package doc",
						pkg, name, fieldName(f), len(f.Doc.List), maxDocLine)
				}
			}
			for _, c := range config[pkg] {
				if c != name {
					continue
				}
				seen[pkg+"."+name] = true
				want := maxFields
				if n, ok := allowed[pkg+"."+name]; ok {
					want = n
				}
				if fields > want {
					t.Errorf("%s.%s has %d fields, want at most %d: group what a person decides together", pkg, name, fields, want)
				}
			}
		}
	}
	for pkg, names := range config {
		for _, name := range names {
			if !seen[pkg+"."+name] {
				t.Errorf("config struct %s.%s not found: update the list", pkg, name)
			}
		}
	}
}

// libraryDirs returns the directories below root that hold a library
// package: not examples, commands, internal packages, generated code or
// test helpers.
func libraryDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || base == "examples" || base == "cmd" || base == "internal" ||
			base == "testdata" || base == "docs" || strings.HasSuffix(base, "pb") || strings.HasSuffix(base, "test")) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." {
			return filepath.SkipDir // a module of its own (sink/duckdb)
		}
		if rel != "." {
			dirs = append(dirs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// parseStructs returns the name of the package in dir and its exported
// struct types.
func parseStructs(t *testing.T, dir string) (string, map[string]*ast.StructType) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	structs := make(map[string]*ast.StructType)
	name := ""
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "main" {
			continue
		}
		name = f.Name.Name
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range g.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() {
					if st, ok := ts.Type.(*ast.StructType); ok {
						structs[ts.Name.Name] = st
					}
				}
			}
		}
	}
	return name, structs
}

// ownFields returns the number of exported fields of the struct type e
// names among structs, its embedded ones' included; 0 for another type.
func ownFields(structs map[string]*ast.StructType, e ast.Expr) int {
	switch x := e.(type) {
	case *ast.StarExpr:
		return ownFields(structs, x.X)
	case *ast.IndexExpr:
		return ownFields(structs, x.X)
	case *ast.Ident:
		st, ok := structs[x.Name]
		if !ok {
			return 0
		}
		n := 0
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				n += max(1, ownFields(structs, f.Type))
			}
			for _, name := range f.Names {
				if name.IsExported() {
					n++
				}
			}
		}
		return n
	}
	return 0
}

func fieldName(f *ast.Field) string {
	if len(f.Names) > 0 {
		return f.Names[0].Name
	}
	return "(embedded)"
}

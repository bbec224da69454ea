// Package docs holds the test that every Go snippet in README.md and
// docs/*.md compiles against this checkout, as a user pasting it would
// build it.
package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/internal/scratchmod"
)

// A snippet is a ```go block of a Markdown file, or the file's setup: a
// ```go block inside an HTML comment (so that readers do not see it) that
// starts with "<!-- setup", declaring what the file's snippets assume,
// such as a User type or a ctx.
type snippet struct {
	file string // as the build reports it, such as "README.md"
	line int    // the line of the block's first line of code
	code string
}

// setupMarker opens a document's hidden setup block.
const setupMarker = "<!-- setup"

// parseMarkdown returns the Go snippets of a Markdown document, and its
// setup block, if any.
func parseMarkdown(name, text string) (snippets []snippet, setup *snippet, err error) {
	lines := strings.Split(text, "\n")
	inSetup := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, setupMarker) {
			inSetup = true
		}
		if inSetup && strings.HasPrefix(strings.TrimSpace(l), "-->") {
			inSetup = false
		}
		fence, ok := strings.CutPrefix(l, "```")
		if !ok {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		if i == len(lines) {
			return nil, nil, fmt.Errorf("%s:%d: code block never closed", name, start)
		}
		if strings.TrimSpace(fence) != "go" {
			continue
		}
		s := snippet{file: name, line: start + 1, code: strings.Join(lines[start:i], "\n")}
		switch {
		case !inSetup:
			snippets = append(snippets, s)
		case setup != nil:
			return nil, nil, fmt.Errorf("%s:%d: a second setup block", name, s.line)
		default:
			setup = &s
		}
	}
	return snippets, setup, nil
}

// imports maps the package names snippets use to their import paths; a
// snippet's file imports those it names.
var imports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "log": "log", "os": "os",
	"strings": "strings", "time": "time", "testing": "testing", "iter": "iter", "slices": "slices",
	"sync": "sync", "flag": "flag", "http": "net/http", "url": "net/url", "httptest": "net/http/httptest",
	"slog": "log/slog", "json": "encoding/json", "sql": "database/sql", "signal": "os/signal",
	"rate":              "golang.org/x/time/rate",
	"oauth2":            "golang.org/x/oauth2",
	"clientcredentials": "golang.org/x/oauth2/clientcredentials",
	"pgxpool":           "github.com/jackc/pgx/v5/pgxpool",
	"paginate":          "github.com/pagekit/pagekit/paginate",
	"paginatetest":      "github.com/pagekit/pagekit/paginate/paginatetest",
	"strategies":        "github.com/pagekit/pagekit/strategies",
	"console":           "github.com/pagekit/pagekit/console",
	"connector":         "github.com/pagekit/pagekit/connector",
	"mockapi":           "github.com/pagekit/pagekit/mockapi",
	"schema":            "github.com/pagekit/pagekit/sink/schema",
	"sqlite":            "github.com/pagekit/pagekit/sink/sqlite",
	"postgres":          "github.com/pagekit/pagekit/sink/postgres",
	"jsonl":             "github.com/pagekit/pagekit/sink/jsonl",
	"parquet":           "github.com/pagekit/pagekit/sink/parquet",
	"memory":            "github.com/pagekit/pagekit/sink/memory",
	"riverjob":          "github.com/pagekit/pagekit/riverjob",
	"pgx":               "github.com/jackc/pgx/v5",
	"river":             "github.com/riverqueue/river",
	"riverpgxv5":        "github.com/riverqueue/river/riverdriver/riverpgxv5",
}

// source returns a Go file, package name pkg, holding s as it must be
// built: a whole file (one that starts with a package clause) as it is;
// declarations as they are; an expression (a configuration struct) as a
// variable's value; statements as the body of a function that returns an
// error, so that they may return err, followed by a use of each variable
// they declare. setup's declarations come first. //line comments make the
// compiler report positions in the Markdown file.
func source(pkg string, s snippet, setup *snippet) (string, error) {
	if strings.HasPrefix(s.code, "package ") {
		return fmt.Sprintf("//line %s:%d\n%s\n", s.file, s.line, s.code), nil
	}
	var body strings.Builder
	if setup != nil {
		fmt.Fprintf(&body, "//line %s:%d\n%s\n\n", setup.file, setup.line, setup.code)
	}
	fset := token.NewFileSet()
	switch {
	case parses(fset, "package p\n"+s.code):
		fmt.Fprintf(&body, "//line %s:%d\n%s\n", s.file, s.line, s.code)
	case isExpr(s.code):
		fmt.Fprintf(&body, "var _ = \n//line %s:%d\n%s\n", s.file, s.line, s.code)
	default:
		f, err := parser.ParseFile(fset, "", "package p\nfunc _() error {\n"+s.code+"\n}", 0)
		if err != nil {
			return "", fmt.Errorf("%s:%d: neither a file, declarations, an expression nor statements: %v", s.file, s.line, err)
		}
		fmt.Fprintf(&body, "func _() error {\n//line %s:%d\n%s\n", s.file, s.line, s.code)
		for _, name := range declared(f.Decls[0].(*ast.FuncDecl).Body) {
			fmt.Fprintf(&body, "\t_ = %s\n", name)
		}
		body.WriteString("\treturn nil\n}\n")
	}
	code := body.String()
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\nimport (\n", pkg)
	for _, name := range named(code) {
		fmt.Fprintf(&b, "\t%q\n", imports[name])
	}
	b.WriteString(")\n\n" + code)
	return b.String(), nil
}

func parses(fset *token.FileSet, src string) bool {
	_, err := parser.ParseFile(fset, "", src, 0)
	return err == nil
}

func isExpr(code string) bool {
	_, err := parser.ParseExpr(code)
	return err == nil
}

// declared returns the variables the top-level statements of body declare.
func declared(body *ast.BlockStmt) []string {
	var names []string
	add := func(id *ast.Ident) {
		if id.Name != "_" && !slices.Contains(names, id.Name) {
			names = append(names, id.Name)
		}
	}
	for _, st := range body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, e := range st.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						add(id)
					}
				}
			}
		}
	}
	return names
}

// named returns, sorted, the packages of imports that code names in a
// qualified identifier, such as paginate in paginate.Run.
func named(code string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+code, 0)
	if err != nil {
		return nil // the build reports it
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && imports[id.Name] != "" && !slices.Contains(names, id.Name) {
				names = append(names, id.Name)
			}
		}
		return true
	})
	slices.Sort(names)
	return names
}

// canary is a snippet that must not compile: the test fails unless the
// build reports it, which proves that a broken snippet fails the test.
const canary = "<!-- setup\n```go\ntype User struct{ ID string }\n```\n-->\n" +
	"```go\nres, err := paginate.Run(context.Background(), nil, nil, paginate.Options[User]{Stream: 42})\n```\n"

// TestSnippets builds every Go snippet of README.md and docs/*.md in a
// scratch module outside the repository, each in a package of its own, and
// fails on any compile error, reported at its line in the Markdown file.
func TestSnippets(t *testing.T) {
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append([]string{"../README.md"}, docs...)
	m := scratchmod.New(t)
	total := 0
	for _, path := range append(docs, "canary.md") {
		name := filepath.Base(path)
		var text []byte
		if name == "canary.md" {
			text = []byte(canary)
		} else if text, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		snippets, setup, err := parseMarkdown(name, string(text))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, s := range snippets {
			pkg := fmt.Sprintf("%s_%d", strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(name)), s.line)
			src, err := source(pkg, s, setup)
			if err != nil {
				t.Error(err)
				continue
			}
			m.Write(t, "snippets/"+pkg+"/snippet.go", src)
			total++
		}
	}
	if total < 10 {
		t.Errorf("found %d snippets; the documentation has more", total)
	}
	out, _ := m.Go("build", "./...")
	var canaryErrs int
	for line := range strings.Lines(out) {
		switch {
		case strings.HasPrefix(line, "canary.md:"):
			canaryErrs++
		case strings.HasPrefix(line, "#"):
		default:
			t.Errorf("%s", strings.TrimSpace(line))
		}
	}
	if canaryErrs == 0 {
		t.Errorf("the canary snippet, which does not compile, was not reported; the build said:\n%s", out)
	}
}

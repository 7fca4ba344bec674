// Command structure prints the shape of the module for a review of its
// structure (issue 17): per package, its non-test lines of Go and assembly,
// its exported names and the lines `go doc -short` prints for it; then the
// largest source files, the largest test files and the largest functions.
//
// Usage, from the module root:
//
//	go run ./tools/structure [dir]
//
// Exported names are counted from the syntax: exported top-level constants,
// variables, functions and types, and exported methods of exported types
// (struct fields and interface methods are not counted). `go doc -short`
// prints one line per declaration group and no methods, so its count is
// lower; both are shown. The "public" line sums the packages an integrator
// can import (neither internal nor main). Directories named testdata or
// starting with "." or "_" are skipped, as the go command skips them.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// pkg is one directory's numbers.
type pkg struct {
	dir      string // relative to the root, "." for the root
	name     string // package clause of its non-test files
	goLines  int    // non-test .go lines
	asmLines int    // .s lines
	exported int    // exported names (see the package comment)
	docLines int    // lines of `go doc -short`, -1 when it failed
}

// file is one source file.
type file struct {
	path  string
	lines int
}

// fn is one function or method declaration in a non-test file.
type fn struct {
	name  string // pkgdir.Func or pkgdir.(Type).Method
	path  string
	lines int
}

func main() {
	top := flag.Int("top", 10, "how many files and functions to list")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	pkgs, srcs, tests, fns, err := walk(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "structure:", err)
		os.Exit(1)
	}
	for i := range pkgs {
		pkgs[i].docLines = docLines(root, pkgs[i].dir)
	}
	report(os.Stdout, pkgs, srcs, tests, fns, *top)
}

// walk reads every package directory under root.
func walk(root string) (pkgs []pkg, srcs, tests []file, fns []fn, err error) {
	byDir := map[string]*pkg{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		isGo, isAsm := strings.HasSuffix(name, ".go"), strings.HasSuffix(name, ".s")
		if !isGo && !isAsm {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.Dir(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n := bytes.Count(src, []byte("\n"))
		if strings.HasSuffix(name, "_test.go") {
			tests = append(tests, file{rel, n})
			return nil
		}
		srcs = append(srcs, file{rel, n})
		p := byDir[dir]
		if p == nil {
			p = &pkg{dir: dir}
			byDir[dir] = p
		}
		if isAsm {
			p.asmLines += n
			return nil
		}
		p.goLines += n
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		p.name = f.Name.Name
		p.exported += exportedNames(f)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			fns = append(fns, fn{name: dir + "." + funcName(fd), path: rel, lines: lines})
		}
		return nil
	})
	for _, p := range byDir {
		pkgs = append(pkgs, *p)
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return cmp.Compare(a.dir, b.dir) })
	return pkgs, srcs, tests, fns, err
}

// exportedNames counts f's exported top-level names and the exported methods
// of its exported receiver types.
func exportedNames(f *ast.File) int {
	n := 0
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil || ast.IsExported(recvType(d)) {
				n++
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						n++
					}
				case *ast.ValueSpec:
					for _, id := range s.Names {
						if id.IsExported() {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

// recvType returns the name of fd's receiver type.
func recvType(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return "?"
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil {
		return fd.Name.Name
	}
	return "(" + recvType(fd) + ")." + fd.Name.Name
}

// docLines returns how many lines `go doc -short` prints for dir, or -1.
func docLines(root, dir string) int {
	cmd := exec.Command("go", "doc", "-short", "./"+filepath.ToSlash(dir))
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return -1
	}
	n := 0
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

func report(w *os.File, pkgs []pkg, srcs, tests []file, fns []fn, top int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tGo lines\tasm lines\texported\tgo doc -short\t")
	var sum, public pkg
	nPublic := 0
	for _, p := range pkgs {
		if p.name != "main" && !isInternal(p.dir) {
			public.goLines += p.goLines
			public.exported += p.exported
			public.docLines += max(p.docLines, 0)
			nPublic++
		}
		doc := fmt.Sprint(p.docLines)
		if p.name == "main" || p.docLines < 0 {
			doc = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", p.dir, p.goLines, p.asmLines, p.exported, doc)
		sum.goLines += p.goLines
		sum.asmLines += p.asmLines
		sum.exported += p.exported
		if p.docLines > 0 && p.name != "main" {
			sum.docLines += p.docLines
		}
	}
	fmt.Fprintf(tw, "total (%d packages)\t%d\t%d\t%d\t%d\t\n", len(pkgs), sum.goLines, sum.asmLines, sum.exported, sum.docLines)
	fmt.Fprintf(tw, "public (%d packages, not internal or main)\t%d\t\t%d\t%d\t\n", nPublic, public.goLines, public.exported, public.docLines)
	tw.Flush()

	byLines := func(a, b file) int { return cmp.Or(cmp.Compare(b.lines, a.lines), cmp.Compare(a.path, b.path)) }
	slices.SortFunc(srcs, byLines)
	slices.SortFunc(tests, byLines)
	slices.SortFunc(fns, func(a, b fn) int { return cmp.Or(cmp.Compare(b.lines, a.lines), cmp.Compare(a.name, b.name)) })
	fmt.Fprintf(w, "\nlargest source files (lines)\n")
	for _, f := range srcs[:min(top, len(srcs))] {
		fmt.Fprintf(w, "%6d  %s\n", f.lines, f.path)
	}
	fmt.Fprintf(w, "\nlargest test files (lines)\n")
	for _, f := range tests[:min(top, len(tests))] {
		fmt.Fprintf(w, "%6d  %s\n", f.lines, f.path)
	}
	fmt.Fprintf(w, "\nlargest functions, non-test (lines)\n")
	for _, f := range fns[:min(top, len(fns))] {
		fmt.Fprintf(w, "%6d  %s  (%s)\n", f.lines, f.name, f.path)
	}
}

// isInternal reports whether dir is, or is under, a directory named internal.
func isInternal(dir string) bool {
	return slices.Contains(strings.Split(filepath.ToSlash(dir), "/"), "internal")
}

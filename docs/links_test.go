// Package docs_test keeps the documentation's links true: every relative
// link in README.md and docs/*.md names a file that exists and, with a
// #fragment, a heading that exists in it (GitHub's anchors).
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// link is a Markdown inline link or image, [text](target) or
// ![alt](target "title"); a target may sit in <...>.
var link = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)

// documents are the files whose links are checked, relative to the root.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, docs...)
}

func TestRelativeLinksResolve(t *testing.T) {
	checked := 0
	for _, file := range documents(t) {
		for _, l := range links(t, file) {
			if strings.Contains(l.target, "://") || strings.HasPrefix(l.target, "mailto:") {
				continue
			}
			checked++
			path, fragment, _ := strings.Cut(l.target, "#")
			target := file
			if path != "" {
				target = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			info, err := os.Stat(target)
			if err != nil {
				t.Errorf("%s:%d: %s: no such file", file, l.line, l.target)
				continue
			}
			if fragment != "" && !info.IsDir() && strings.HasSuffix(target, ".md") && !anchors(t, target)[fragment] {
				t.Errorf("%s:%d: %s: no heading #%s in %s", file, l.line, l.target, fragment, target)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the pattern is broken")
	}
}

type found struct {
	target string
	line   int
}

// links are the links of file outside fenced code blocks and code spans.
func links(t *testing.T, file string) []found {
	t.Helper()
	var out []found
	for i, line := range prose(t, file) {
		for _, m := range link.FindAllStringSubmatch(stripCode(line), -1) {
			out = append(out, found{m[1], i + 1})
		}
	}
	return out
}

// prose returns file's lines with those of fenced code blocks blanked.
func prose(t *testing.T, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			lines[i] = ""
		} else if fenced {
			lines[i] = ""
		}
	}
	return lines
}

var codeSpan = regexp.MustCompile("`[^`]*`")

func stripCode(line string) string { return codeSpan.ReplaceAllString(line, "") }

// anchors are the fragments GitHub gives file's headings: lower case,
// punctuation dropped but for - and _, spaces as -, repeats numbered.
func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose(t, file) {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// The checker itself: a link to a missing file or heading is found.
func TestTheCheckerFindsBrokenLinks(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "a.md")
	text := "# Title here\n\n## Keys & rotation\n\n[ok](a.md#keys--rotation) [gone](b.md) [bad](#nowhere) `[code](c.md)`\n\n```\n[fenced](d.md)\n```\n"
	if err := os.WriteFile(doc, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := links(t, doc)
	if len(got) != 3 || got[0].target != "a.md#keys--rotation" || got[1].target != "b.md" || got[2].target != "#nowhere" {
		t.Fatalf("links = %+v", got)
	}
	a := anchors(t, doc)
	if !a["title-here"] || !a["keys--rotation"] || a["nowhere"] {
		t.Fatalf("anchors = %v", a)
	}
}

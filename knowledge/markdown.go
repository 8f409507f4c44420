package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Errors that Parse wraps; the caller adds the file's name.
var (
	ErrNoSections = errors.New("no sections: the file holds no text")
	ErrNotUTF8    = errors.New("not UTF-8 text")
)

// maxLevel is the deepest heading that starts a section; "####" and below stay in the body.
const maxLevel = 3

// Parse splits a Markdown document into sections: each "#", "##" or "###" heading at the top
// level of the document starts one (a "#" inside a code fence or a quote does not). Text
// before the first heading becomes a section titled after source, the document's file name
// (e.g. "onboarding.md"), which each section also records.
func Parse(source string, md []byte) ([]Section, error) {
	md = bytes.TrimPrefix(md, []byte("\uFEFF"))
	if !utf8.Valid(md) {
		return nil, ErrNotUTF8
	}
	doc := goldmark.DefaultParser().Parse(text.NewReader(md))

	var (
		sections []Section
		path     []string // the open headings, one per level in use
		levels   []int
		bodyFrom int // where the text of the current section starts
		current  = -1
	)
	closeSection := func(end int) {
		body := strings.TrimSpace(string(md[bodyFrom:end]))
		if current >= 0 {
			sections[current].Body = body
		} else if body != "" {
			title := fileTitle(source)
			sections = append(sections, Section{Title: title, Path: []string{title}, Body: body, Source: source})
		}
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level > maxLevel {
			continue
		}
		start, end := headingSpan(h, md)
		closeSection(start)
		bodyFrom = end

		title := headingText(h, md)
		if title == "" {
			return nil, fmt.Errorf("line %d: empty heading", 1+bytes.Count(md[:start], []byte("\n")))
		}
		for len(levels) > 0 && levels[len(levels)-1] >= h.Level {
			levels, path = levels[:len(levels)-1], path[:len(path)-1]
		}
		levels, path = append(levels, h.Level), append(path, title)
		sections = append(sections, Section{Title: title, Path: append([]string(nil), path...), Source: source})
		current = len(sections) - 1
	}
	closeSection(len(md))
	if len(sections) == 0 {
		return nil, ErrNoSections
	}
	for i := range sections {
		sections[i].ID = Slug(sections[i].Path)
	}
	uniqueIDs(sections)
	return sections, nil
}

// headingSpan returns where the heading's lines start and end in md: from the start of its
// first text line to the end of its last line, the "===" underline of a Setext heading
// included.
func headingSpan(h *ast.Heading, md []byte) (start, end int) {
	start, end = h.Pos(), h.Pos()
	if lines := h.Lines(); lines.Len() > 0 {
		start = min(start, lines.At(0).Start)
		end = max(end, lines.At(lines.Len()-1).Stop)
	}
	start = max(0, min(start, len(md)))
	start = bytes.LastIndexByte(md[:start], '\n') + 1
	end = lineEnd(md, max(0, min(end, len(md))))
	if !bytes.HasPrefix(bytes.TrimLeft(md[start:], " "), []byte("#")) {
		end = lineEnd(md, end) // a Setext heading: its "===" or "---" line follows the text
	}
	return start, end
}

// lineEnd returns the position just past the end of the line that i is on.
func lineEnd(md []byte, i int) int {
	if n := bytes.IndexByte(md[i:], '\n'); n >= 0 {
		return i + n + 1
	}
	return len(md)
}

// headingText is the heading as written, on one line, without its Markdown markers.
func headingText(h *ast.Heading, md []byte) string {
	var b strings.Builder
	lines := h.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(md))
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// fileTitle names text that sits above any heading: "team-onboarding.md" gives
// "Team Onboarding".
func fileTitle(source string) string {
	name := strings.TrimSuffix(path.Base(source), path.Ext(source))
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == ' ' })
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = strings.ToUpper(string(r)) + w[size:]
	}
	if len(words) == 0 {
		return source
	}
	return strings.Join(words, " ")
}

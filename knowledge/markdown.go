package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Errors that Parse wraps; the caller adds the file's name.
var (
	ErrNoSections = errors.New("no sections: the file holds no text")
	ErrNotUTF8    = errors.New("not UTF-8 text")
	ErrControl    = errors.New("holds a control character")
)

// maxLevel is the deepest heading that starts a section; "####" and below stay in the body.
const maxLevel = 3

// Parse splits a Markdown document into sections: each "#", "##" or "###" heading at the top
// level of the document starts one (a "#" inside a code fence or a quote does not). Text
// before the first heading becomes a section titled after source, the document's file name
// (e.g. "onboarding.md"), which each section also records.
//
// A comment that starts with "questions" under a heading lists typical questions the section
// answers, one a line (a leading "-" or "*" is allowed); it becomes the section's Questions
// and is left out of its Body:
//
//	<!-- questions
//	- why is integration so hard?
//	- what makes integration projects fail?
//	-->
func Parse(source string, md []byte) ([]Section, error) {
	md = bytes.TrimPrefix(md, []byte("\uFEFF"))
	if !utf8.Valid(md) {
		return nil, ErrNotUTF8
	}
	if at, r := firstControl(md); at >= 0 {
		return nil, fmt.Errorf("line %d: %w (U+%04X): not a text file", 1+bytes.Count(md[:at], []byte("\n")), ErrControl, r)
	}
	doc := goldmark.DefaultParser().Parse(text.NewReader(md))

	var (
		sections  []Section
		path      []string // the open headings, one per level in use
		levels    []int
		bodyFrom  int      // where the text of the current section starts
		cuts      [][2]int // question comments within the current section's text
		questions []string
		current   = -1
	)
	closeSection := func(end int) {
		var b strings.Builder
		from := bodyFrom
		for _, c := range cuts {
			b.Write(md[from:c[0]])
			from = c[1]
		}
		b.Write(md[from:end])
		body := strings.TrimSpace(b.String())
		if current >= 0 {
			sections[current].Body, sections[current].Questions = body, questions
		} else if body != "" || len(questions) > 0 {
			title := fileTitle(source)
			sections = append(sections, Section{Title: title, Path: []string{title}, Body: body, Source: source, Questions: questions})
		}
		cuts, questions = nil, nil
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if qs, span, ok := questionBlock(n, md); ok {
			cuts, questions = append(cuts, span), append(questions, qs...)
			continue
		}
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

// firstControl returns the offset and value of the first control character in md other
// than tab, line feed and carriage return, or -1: such a file is binary, not Markdown, and
// its "text" would only make an unreadable section.
func firstControl(md []byte) (int, rune) {
	for i, r := range string(md) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return i, r
		}
	}
	return -1, 0
}

// questionsMarker opens a comment that lists example questions.
const questionsMarker = "<!-- questions"

// questionBlock reports whether n is a "<!-- questions … -->" comment, and returns its
// questions and where it lies in md, so that it can be cut from the section's text.
func questionBlock(n ast.Node, md []byte) ([]string, [2]int, bool) {
	html, ok := n.(*ast.HTMLBlock)
	if !ok || html.HTMLBlockType != ast.HTMLBlockType2 || html.Lines().Len() == 0 {
		return nil, [2]int{}, false
	}
	lines := html.Lines()
	start, end := lines.At(0).Start, lines.At(lines.Len()-1).Stop
	if html.HasClosure() {
		end = html.ClosureLine.Stop
	}
	raw := string(md[start:end])
	rest, ok := strings.CutPrefix(strings.TrimSpace(raw), questionsMarker)
	if !ok || (rest != "" && !strings.ContainsAny(rest[:1], " \t\r\n")) {
		return nil, [2]int{}, false // another comment, or "<!-- questionsX"
	}
	rest, _, _ = strings.Cut(rest, "-->")
	var qs []string
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimLeft(line, "-*"))
		if line != "" {
			qs = append(qs, line)
		}
	}
	return qs, [2]int{start, end}, true
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

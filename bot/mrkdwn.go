package bot

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack/slackutilsx"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// mrkdwn converts Markdown to Slack's mrkdwn. Every piece of text is escaped, so nothing in a
// knowledge file can become a live mention or link other than a Markdown link.
func mrkdwn(md string) string {
	src := []byte(md)
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	var b strings.Builder
	w := &mrkdwnWriter{src: src, b: &b}
	w.blocks(doc, "")
	return strings.TrimRight(b.String(), "\n")
}

type mrkdwnWriter struct {
	src []byte
	b   *strings.Builder
}

// blocks writes the block children of n, separated by blank lines, each line after the first
// starting with indent.
func (w *mrkdwnWriter) blocks(n ast.Node, indent string) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c != n.FirstChild() {
			w.b.WriteString("\n")
			if c.HasBlankPreviousLines() || n.Kind() == ast.KindDocument {
				w.b.WriteString(indent + "\n")
			}
			w.b.WriteString(indent)
		}
		w.block(c, indent)
	}
}

func (w *mrkdwnWriter) block(n ast.Node, indent string) {
	switch n := n.(type) {
	case *ast.Heading:
		w.b.WriteString("*")
		w.inlines(n)
		w.b.WriteString("*")
	case *ast.Paragraph, *ast.TextBlock:
		w.inlines(n)
	case *ast.List:
		number := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			if item != n.FirstChild() {
				w.b.WriteString("\n" + indent)
			}
			marker := "• "
			if n.IsOrdered() {
				marker = fmt.Sprintf("%d. ", number)
				number++
			}
			w.b.WriteString(marker)
			w.blocks(item, indent+strings.Repeat(" ", len(marker)+1))
		}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		w.b.WriteString("```\n")
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			w.b.WriteString(escape(string(seg.Value(w.src))))
		}
		w.b.WriteString("```")
	case *ast.Blockquote:
		var inner strings.Builder
		(&mrkdwnWriter{src: w.src, b: &inner}).blocks(n, "")
		for i, line := range strings.Split(strings.TrimRight(inner.String(), "\n"), "\n") {
			if i > 0 {
				w.b.WriteString("\n" + indent)
			}
			w.b.WriteString("> " + line)
		}
	case *ast.ThematicBreak:
		w.b.WriteString("———")
	case *ast.HTMLBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			w.b.WriteString(escape(strings.TrimRight(string(seg.Value(w.src)), "\n")))
		}
	default:
		w.blocks(n, indent)
	}
}

// inlines writes the inline children of n.
func (w *mrkdwnWriter) inlines(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			w.b.WriteString(escape(string(c.Segment.Value(w.src))))
			switch {
			case c.HardLineBreak():
				w.b.WriteString("\n")
			case c.SoftLineBreak():
				w.b.WriteString(" ")
			}
		case *ast.String:
			w.b.WriteString(escape(string(c.Value)))
		case *ast.CodeSpan:
			w.b.WriteString("`")
			w.plain(c)
			w.b.WriteString("`")
		case *ast.Emphasis:
			mark := "_"
			if c.Level >= 2 {
				mark = "*"
			}
			w.b.WriteString(mark)
			w.inlines(c)
			w.b.WriteString(mark)
		case *ast.Link:
			w.link(string(c.Destination), c)
		case *ast.Image:
			w.link(string(c.Destination), c)
		case *ast.AutoLink:
			w.link(string(c.URL(w.src)), c)
		case *ast.RawHTML:
			segs := c.Segments
			for i := 0; i < segs.Len(); i++ {
				seg := segs.At(i)
				w.b.WriteString(escape(string(seg.Value(w.src))))
			}
		default:
			w.inlines(c)
		}
	}
}

// plain writes the text of n's descendants, escaped, without formatting.
func (w *mrkdwnWriter) plain(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			w.b.WriteString(escape(string(t.Segment.Value(w.src))))
		} else {
			w.plain(c)
		}
	}
}

// link writes <address|label> for web and mail addresses; any other address (a relative
// path, javascript:…) cannot be followed from Slack, and only its label is kept.
func (w *mrkdwnWriter) link(dest string, label ast.Node) {
	var l strings.Builder
	(&mrkdwnWriter{src: w.src, b: &l}).inlines(label)
	u, err := url.Parse(dest)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
		w.b.WriteString(l.String())
		return
	}
	// "|" and ">" would end Slack's link early: they are percent-encoded in the address, and
	// "&" is escaped like everywhere else in a message.
	addr := strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20", "&", "&amp;").Replace(u.String())
	if l.Len() == 0 {
		fmt.Fprintf(w.b, "<%s>", addr)
		return
	}
	fmt.Fprintf(w.b, "<%s|%s>", addr, strings.ReplaceAll(l.String(), "|", "¦"))
}

// escape makes text safe to put in a Slack message: &, < and > become entities, so that
// "<!channel>" or "<@U123>" typed by someone shows as text and notifies no one.
func escape(s string) string {
	return slackutilsx.EscapeMessage(s)
}

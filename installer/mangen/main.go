// Command mangen writes the manual pages of paraphe, paraphe-ca and
// paraphe-portal and paraphe-exchange from the commands' own English usage
// texts in the catalogue (usage, usage.<command>, ca.usage,
// ca.usage.<command>, portal.usage, exchange.usage,
// exchange.usage.<command>), so that the pages never drift from the CLI.
//
//	go run ./installer/mangen -version 1.2.3 -o DIR
//
// writes DIR/paraphe.1.gz, DIR/paraphe-ca.1.gz, DIR/paraphe-portal.1.gz and
// DIR/paraphe-exchange.1.gz, compressed as Debian wants them (gzip -9n:
// best compression, no name, no time stamp).
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/i18n"
)

func main() {
	version := flag.String("version", "dev", "the suite's version, for the page footer")
	out := flag.String("o", ".", "output folder")
	flag.Parse()
	cat, err := i18n.Catalog()
	if err != nil {
		fail(err)
	}
	en := cat["en"]
	for _, p := range pages {
		var b bytes.Buffer
		p.write(&b, en, *version)
		if err := writeGzip(filepath.Join(*out, p.name+".1.gz"), b.Bytes()); err != nil {
			fail(err)
		}
	}
}

// pages are the suite's manual pages.
var pages = []page{
	{name: "paraphe", usage: "usage", commands: "usage.", seeAlso: []string{"paraphe-ca", "paraphe-exchange"}},
	{name: "paraphe-ca", usage: "ca.usage", commands: "ca.usage.", seeAlso: []string{"paraphe", "paraphe-exchange"}},
	// One usage text, no commands of their own.
	{name: "paraphe-portal", usage: "portal.usage", commands: "portal.usage.", seeAlso: []string{"paraphe"}},
	{name: "paraphe-exchange", usage: "exchange.usage", commands: "exchange.usage.", seeAlso: []string{"paraphe", "paraphe-ca"}},
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mangen:", err)
	os.Exit(1)
}

func writeGzip(path string, data []byte) error {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // header without name or time
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// page is one manual page: the main usage text and one per command.
type page struct {
	name     string
	usage    string // catalogue key of the whole usage text
	commands string // prefix of the per-command keys
	seeAlso  []string
}

// write renders the page. The usage texts are paragraphs separated by
// blank lines; those titled "Usage:", "Examples:", "Environment:" and
// "Exit codes:" (with the paragraphs after it) become sections of their own.
func (p *page) write(b *bytes.Buffer, msgs map[string]string, version string) {
	text := msgs[p.usage]
	paras := strings.Split(strings.TrimRight(text, "\n"), "\n\n")
	name, summary, _ := strings.Cut(paras[0], ": ")
	fmt.Fprintf(b, ".TH %s 1 \"\" \"Paraphe %s\" \"User Commands\"\n", strings.ToUpper(p.name), esc(version))
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", esc(name), esc(strings.TrimSuffix(summary, ".")))

	bySection := map[string][]string{}
	inExit := false // the exit codes' paragraphs run to the end
	for _, para := range paras[1:] {
		first, rest, _ := strings.Cut(para, "\n")
		title := strings.TrimSpace(first)
		switch {
		case inExit:
			bySection["EXIT STATUS"] = append(bySection["EXIT STATUS"], para)
		case strings.HasPrefix(title, "Exit codes:"):
			inExit = true
			bySection["EXIT STATUS"] = append(bySection["EXIT STATUS"], strings.TrimSpace(strings.TrimPrefix(para, "Exit codes:")))
		case strings.HasPrefix(title, "Environment:"):
			bySection["ENVIRONMENT"] = append(bySection["ENVIRONMENT"], strings.TrimSpace(strings.TrimPrefix(para, "Environment:")))
		case title == "Usage:" || title == "Examples:":
			sec := map[string]string{"Usage:": "SYNOPSIS", "Examples:": "EXAMPLES"}[title]
			bySection[sec] = append(bySection[sec], rest)
		default:
			bySection["DESCRIPTION"] = append(bySection["DESCRIPTION"], para)
		}
	}
	for _, sec := range []string{"SYNOPSIS", "DESCRIPTION"} {
		p.section(b, sec, bySection[sec])
	}
	p.commandsSection(b, msgs)
	for _, sec := range []string{"EXAMPLES", "ENVIRONMENT", "EXIT STATUS"} {
		p.section(b, sec, bySection[sec])
	}
	if p.name == "paraphe" {
		fmt.Fprintf(b, ".SH FILES\n.TP\n.I %s\n%s\n.TP\n.I ~/.config/paraphe/\n%s\n",
			esc(config.PolicyPath()), esc("The machine policy, set by IT (PARAPHE_POLICY names another)."),
			esc("Your settings and key files (PARAPHE_HOME names another folder)."))
	}
	fmt.Fprintf(b, ".SH SEE ALSO\n")
	for i, other := range p.seeAlso {
		sep := ","
		if i == len(p.seeAlso)-1 {
			sep = ""
		}
		fmt.Fprintf(b, ".BR %s (1)%s\n", other, sep)
	}
}

func (p *page) section(b *bytes.Buffer, name string, paras []string) {
	if len(paras) == 0 {
		return
	}
	fmt.Fprintf(b, ".SH %s\n", name)
	for i, para := range paras {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		block(b, para)
	}
}

// commandsSection gives each command its synopsis and description.
func (p *page) commandsSection(b *bytes.Buffer, msgs map[string]string) {
	var keys []string
	for k := range msgs {
		if strings.HasPrefix(k, p.commands) && !strings.Contains(strings.TrimPrefix(k, p.commands), ".") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	fmt.Fprintf(b, ".SH COMMANDS\n")
	for _, k := range keys {
		fmt.Fprintf(b, ".SS %s\n", esc(strings.ReplaceAll(strings.TrimPrefix(k, p.commands), "_", " "))) // user_add: "user add"
		// "Usage: " goes; the synopsis lines under the first lose as much.
		text := strings.TrimPrefix(msgs[k], "Usage: ")
		text = strings.ReplaceAll(text, "\n       ", "\n")
		for i, para := range strings.Split(text, "\n\n") {
			if i > 0 {
				b.WriteString(".PP\n")
			}
			block(b, para)
		}
	}
}

// block writes a paragraph: prose is filled; indented lines (synopses,
// examples, JSON) are kept as they are, unless too wide for a terminal,
// in which case each line is filled on its own.
func block(b *bytes.Buffer, para string) {
	lines := strings.Split(para, "\n")
	var prose, kept []string
	flush := func() {
		if len(prose) > 0 {
			b.WriteString(esc(strings.Join(prose, " ")) + "\n")
			prose = nil
		}
		if len(kept) == 0 {
			return
		}
		wide := slices.ContainsFunc(kept, func(l string) bool { return len(l) > 78 })
		if !wide {
			b.WriteString(".nf\n")
			for _, l := range kept {
				b.WriteString(esc(l) + "\n")
			}
			b.WriteString(".fi\n")
		} else {
			for _, l := range kept {
				b.WriteString(".br\n" + esc(strings.TrimSpace(l)) + "\n")
			}
		}
		kept = nil
	}
	for _, l := range lines {
		// synopsis lines, their continuations ("[--flag …]"), and examples
		indented := strings.HasPrefix(l, " ") || strings.HasPrefix(l, "paraphe") || strings.HasPrefix(l, "[")
		if indented {
			if len(prose) > 0 {
				flush()
			}
			kept = append(kept, l)
			continue
		}
		if len(kept) > 0 {
			flush()
		}
		prose = append(prose, strings.TrimSpace(l))
	}
	flush()
}

// esc makes text safe for roff: backslashes, minus signs, and a leading
// dot or quote that would be read as a request.
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

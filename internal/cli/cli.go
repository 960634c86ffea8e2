// Package cli holds the pieces the paraphe, paraphe-ca and paraphe-exchange
// commands share:
// flag parsing that accepts flags after arguments, exit codes carried by
// errors, and prompts on the terminal.
package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Parse parses fs over args, allowing flags and positional arguments in any
// order ("revoke 1a2b --reason superseded"), and returns the positionals.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// ExitError is an error with the exit code the command must end with and
// the message already in the user's language.
type ExitError struct {
	Code    int
	Message string // what happened
	Hint    string // what to do next; may be empty
	Err     error  // the cause, for --debug
}

func (e *ExitError) Error() string { return e.Message }
func (e *ExitError) Unwrap() error { return e.Err }

// Exit prints err the way both commands do ("paraphe: message" then
// "hint: next step") and returns its exit code; a plain error exits 1.
func Exit(stderr io.Writer, prog string, err error, hintWord string) int {
	var e *ExitError
	if !errors.As(err, &e) {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	fmt.Fprintf(stderr, "%s: %s\n", prog, e.Message)
	if e.Hint != "" {
		fmt.Fprintf(stderr, "%s: %s\n", hintWord, e.Hint)
	}
	if e.Err != nil && os.Getenv("PARAPHE_DEBUG") != "" {
		fmt.Fprintf(stderr, "debug: %v\n", e.Err)
	}
	return e.Code
}

// Terminal reads answers from the user: hidden on a terminal, line by line
// otherwise.
type Terminal struct {
	In  *os.File
	Out io.Writer
	r   *bufio.Reader
}

// IsTerminal reports whether input comes from a terminal.
func (t *Terminal) IsTerminal() bool { return term.IsTerminal(int(t.In.Fd())) }

// Line prompts and reads a visible line.
func (t *Terminal) Line(prompt string) (string, error) {
	fmt.Fprint(t.Out, prompt)
	if t.r == nil {
		t.r = bufio.NewReader(t.In)
	}
	s, err := t.r.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || s == "") {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// Secret prompts and reads a line without echo. Off a terminal it reads a
// plain line, so it works in pipes too.
func (t *Terminal) Secret(prompt string) ([]byte, error) {
	if !t.IsTerminal() {
		s, err := t.Line(prompt)
		return []byte(s), err
	}
	fmt.Fprint(t.Out, prompt)
	b, err := term.ReadPassword(int(t.In.Fd()))
	fmt.Fprintln(t.Out)
	return b, err
}

// FlagSet is a command's flag set: errors and usage go to stderr, and the
// usage shows the translated synopsis before the flags.
func FlagSet(name string, stderr io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// WriteJSON writes v as the indented JSON the --json options print.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

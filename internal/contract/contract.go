// Package contract holds the configuration contracts between the CDK app, the functions it
// deploys and the people who deploy it: the wallet stack's, the janitor's, the organization's
// janitor's and the deploy check's context keys (`cdk deploy -c key=value`), and the
// environment the functions are configured by. Each contract is one table of keys (name,
// default, what is allowed, how a value is read into the config and written back), so a key is
// read and written beside each other, every bad value of one synth is named in one error, and
// Keys lists them all for the docs.
package contract

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Lookup returns a context value (or an environment variable) and whether it was set at all.
type Lookup func(key string) (string, bool)

// ContextError names the bad context key, its value and what is allowed.
type ContextError struct {
	Key, Value, Allowed string
	// Env: an environment variable of a function, not a context key.
	Env bool
}

func (e *ContextError) Error() string {
	what := "context"
	if e.Env {
		what = "environment"
	}
	return fmt.Sprintf("invalid %s %s=%q: %s", what, e.Key, cut(e.Value), e.Allowed)
}

// cut keeps a value short in a message: a 60,000-character value is not echoed whole.
func cut(s string) string {
	const most = 80
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + fmt.Sprintf("… (%d characters)", len(r))
	}
	return s
}

// ConfigErrors is every ContextError found in one pass, in a stable order.
type ConfigErrors struct {
	Errs []error
	msg  string
}

func (e *ConfigErrors) Error() string   { return e.msg }
func (e *ConfigErrors) Unwrap() []error { return e.Errs }

// joinErrors keeps a stable order so the same bad input always gives the same message.
func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return &ConfigErrors{Errs: errs, msg: strings.Join(msgs, "\n")}
}

// Join puts the errors of several parses (the wallet stack's and the janitor's) into one
// ConfigErrors, so one failed synth still names every bad key of every contract.
func Join(errs ...error) error {
	var all []error
	for _, err := range errs {
		var ce *ConfigErrors
		switch {
		case err == nil:
		case errors.As(err, &ce):
			all = append(all, ce.Errs...)
		default:
			all = append(all, err)
		}
	}
	return joinErrors(all)
}

// refusal is a value refused, with what is allowed.
type refusal string

func (r refusal) Error() string { return string(r) }

// refused is the error a key's read returns for a value it does not take.
func refused(format string, a ...any) error { return refusal(fmt.Sprintf(format, a...)) }

// key is one key of a contract C: its name; the default in words (for Keys, the docs); what is
// allowed; how a value is read into the config (absent keys keep the default the contract's
// zero config holds); and, when it is written back (Context, Env), how. A read may look at
// what keys before it in the table read: the table is in order.
type key[C any] struct {
	name, def, allowed string
	read               func(c *C, v string) error
	write              func(c C) (string, bool)
	// absent, when set, runs for a key that is not given (a key that must be, or whose
	// absence depends on another).
	absent func(c *C) error
}

// parse reads every key of the table from get into c, naming every bad value; env says the
// keys are a function's environment variables.
func parse[C any](get Lookup, c *C, keys []key[C], env bool) error {
	var errs []error
	bad := func(k key[C], v string, err error) {
		allowed := k.allowed
		var r refusal
		if errors.As(err, &r) {
			allowed = string(r)
		}
		errs = append(errs, &ContextError{Key: k.name, Value: v, Allowed: allowed, Env: env})
	}
	for _, k := range keys {
		v, ok := get(k.name)
		if !ok {
			if k.absent != nil {
				if err := k.absent(c); err != nil {
					bad(k, "", err)
				}
			}
			continue
		}
		if err := k.read(c, v); err != nil {
			bad(k, v, err)
		}
	}
	return joinErrors(errs)
}

// write is c as the table's keys and values, for the keys written back.
func write[C any](c C, keys []key[C]) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		if k.write == nil {
			continue
		}
		if v, ok := k.write(c); ok {
			m[k.name] = v
		}
	}
	return m
}

// Key is one context key or environment variable, as the docs list it.
type Key struct {
	Contract, Name, Default, Allowed string
}

func describe[C any](contract string, keys []key[C]) []Key {
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{Contract: contract, Name: k.name, Default: k.def, Allowed: k.allowed}
	}
	return out
}

// Keys lists every context key of every contract, in each contract's order.
func Keys() []Key {
	return slices.Concat(describe("wallet stack", stackKeys), describe("deploy check", deployCheckKeys),
		describe("janitor", janitorKeys), describe("organization's janitor", janitorOrgKeys))
}

// The strict readers every contract shares: a value a person typed is read one way only.

var wholeRE = regexp.MustCompile(`^[0-9]+$`)

// whole reads a whole number in decimal digits from min to max: no sign, no spaces, no 1e3,
// no 1_000 (a typo, not a thousand).
func whole(v string, min, max int) (int, error) {
	if !wholeRE.MatchString(v) {
		return 0, refused("want a whole number from %d to %d", min, max)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, refused("want a whole number from %d to %d", min, max)
	}
	return n, nil
}

// boolean reads exactly true or false: TRUE, 1 or yes are someone's guess at the syntax.
func boolean(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, refused("want true or false")
}

// list reads a comma-separated list each of whose items matches re, each once: an item named
// twice would do its work twice.
func list(v string, re *regexp.Regexp, allowed string) ([]string, error) {
	items := strings.Split(v, ",")
	seen := map[string]bool{}
	for _, it := range items {
		if !re.MatchString(it) {
			return nil, refused("%s", allowed)
		}
		if seen[it] {
			return nil, refused("%s; %s is named twice", allowed, it)
		}
		seen[it] = true
	}
	return items, nil
}

package main

import (
	"strings"
	"testing"
)

// An identity answer that names no account (a misbehaving endpoint or proxy) must not make an
// empty line, or any line, the confirmation: nothing is confirmed.
func TestAnEmptyAccountIdConfirmsNothing(t *testing.T) {
	for _, typed := range []string{"\n", " \n", ""} {
		var w strings.Builder
		if ok, err := confirmTyped(strings.NewReader(typed), &w, "", ""); ok || err != nil {
			t.Errorf("typed %q confirmed (%v)", typed, err)
		}
	}
}

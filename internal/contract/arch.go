package contract

import "errors"

// Arch is a function's instruction set, in Lambda's words.
type Arch string

const (
	ArchARM64 Arch = "arm64"
	ArchX8664 Arch = "x86_64"
)

// GOARCH is the Go toolchain's name for the architecture.
func (a Arch) GOARCH() string {
	if a == ArchX8664 {
		return "amd64"
	}
	return "arm64"
}

// ParseArch reads a function architecture as the context writes it, in Lambda's words.
func ParseArch(v string) (Arch, error) {
	switch a := Arch(v); a {
	case ArchARM64, ArchX8664:
		return a, nil
	}
	return "", errors.New("want one of arm64, x86_64")
}

// ArchOfGOARCH is the function architecture that runs natively on a Go GOARCH ("amd64",
// "arm64"), and whether there is one.
func ArchOfGOARCH(goarch string) (Arch, bool) {
	switch goarch {
	case "amd64":
		return ArchX8664, true
	case "arm64":
		return ArchARM64, true
	}
	return "", false
}

// archKey reads an architecture key (janitorArch, verifyArch) into dst.
func archRead(dst *Arch, v string) error {
	a, err := ParseArch(v)
	if err != nil {
		return refused("%v", err)
	}
	*dst = a
	return nil
}

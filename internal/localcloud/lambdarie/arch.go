package lambdarie

import (
	"fmt"
	"runtime"

	"github.com/wallet-dynamodb/wallet/internal/contract"
)

// Arch is the Lambda architecture this machine runs natively: the one a function must be built
// for (verifyArch, janitorArch) for the emulator to run its deployed code here.
func Arch() (contract.Arch, error) {
	arch, ok := contract.ArchOfGOARCH(runtime.GOARCH)
	if !ok {
		return "", fmt.Errorf("this machine (%s) runs no Lambda architecture natively; the emulator needs amd64 or arm64", runtime.GOARCH)
	}
	return arch, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
)

// deployCheckContext builds the wallet stack's check for this machine, so that the Lambda
// emulator can run the deployed code natively.
func deployCheckContext() (map[string]string, error) {
	arch, err := lambdarie.Arch()
	if err != nil {
		return nil, err
	}
	return map[string]string{contract.CtxVerifyArch: string(arch)}, nil
}

// deployCheckStep shows the check inside the deploy: what CloudFormation does on AWS with the
// stack's custom resource, and moto skips — it sends the deployed check function (its code zip,
// under the Lambda emulator) the request of this deploy and reads the answer at the
// ResponseURL. On AWS a FAILED answer fails the deploy and CloudFormation rolls it back.
func deployCheckStep(ctx context.Context, out io.Writer, cloud *localcloud.Server, stack string,
	do func(string, func() (string, error)) error) error {
	return do("the check inside the deploy, as CloudFormation runs it", func() (string, error) {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return "", err
		}
		dir, err := os.MkdirTemp("", "wallet-deploycheck-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		fn, err := lambdarie.FromStack(ctx, cfg, stack, dir)
		if err != nil {
			return "", err
		}
		rie, err := lambdarie.BuildRIE(ctx, dir)
		if err != nil {
			return "", err
		}
		// Concurrency 1, as for verify below: moto's UpdateItem takes no lock. The harness's one
		// flag lets the function answer the local http ResponseURL (Lambda passes none).
		env := append(cloud.Env(), contract.EnvCheckConcurrency+"=1")
		emu, err := lambdarie.Start(ctx, fn, lambdarie.Options{RIE: rie, Env: env, LogDir: dir, Args: cfngap.FunctionArgs()})
		if err != nil {
			return "", err
		}
		defer emu.Stop()
		req, err := cfngap.CustomResourceRequest(ctx, cfg, stack, nil, nil)
		if err != nil {
			return "", err
		}
		run, err := cfngap.RunCustomResource(ctx, emu, req)
		if err != nil {
			return "", err
		}
		if run.Answer == nil {
			return "", fmt.Errorf("the check never answered CloudFormation: %s\n%s", run.Invoke.Body, emu.Log())
		}
		fmt.Fprintf(out, "%s (%s, %d s) answered CloudFormation %s (%d bytes):\n  %s\n",
			fn.Name, fn.Runtime, fn.TimeoutS, run.Answer.Status, run.AnswerBytes, run.Answer.Reason)
		if run.Answer.Status != "SUCCESS" {
			return "", fmt.Errorf("the check inside the deploy failed: %s", run.Answer.Reason)
		}
		return "SUCCESS: " + run.Answer.Reason, nil
	})
}

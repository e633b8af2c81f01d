// Package lambdarie runs a Lambda function the way it was deployed, on this machine: the code
// zip that `cdk deploy` uploaded, with the function's own configuration, under Amazon's Lambda
// Runtime Interface Emulator (aws-lambda-rie, pinned in go.mod as a tool). moto deploys the
// function but cannot execute it (that would take Docker); the emulator runs the bootstrap as
// Lambda's runtime API would, so what is tested is the artifact, not the source.
//
// FromStack finds a stack's function and fetches its code; Start runs it; Invoke posts an
// event; Stop ends the emulator and the function by pid.
package lambdarie

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Function is a deployed function, ready to run locally.
type Function struct {
	Name    string
	Runtime string
	Handler string
	// Env is the function's environment as Lambda holds it (GetFunctionConfiguration).
	Env       map[string]string
	TimeoutS  int32
	MemoryMB  int32
	Bucket    string // where its code zip is
	Key       string
	CodeBytes int
	// Bootstrap is the executable unzipped from the deployed code.
	Bootstrap string
}

// FromStack finds the one AWS::Lambda::Function of a deployed stack, reads its configuration,
// fetches the code zip from the bucket its template names (CDK's asset bucket, with the
// template's ${AWS::AccountId} and ${AWS::Region} filled in), checks it against the function's
// CodeSha256 and unzips it into dir.
func FromStack(ctx context.Context, cfg aws.Config, stack, dir string) (*Function, error) {
	cfn := cloudformation.NewFromConfig(cfg)
	res, err := cfn.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("resources of %s: %w", stack, err)
	}
	var fn cfntypes.StackResourceSummary
	n := 0
	for _, r := range res.StackResourceSummaries {
		if aws.ToString(r.ResourceType) == "AWS::Lambda::Function" {
			fn, n = r, n+1
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("stack %s has %d Lambda functions, want one", stack, n)
	}
	bucket, key, err := codeLocation(ctx, cfg, cfn, stack, aws.ToString(fn.LogicalResourceId))
	if err != nil {
		return nil, err
	}

	conf, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn.PhysicalResourceId})
	if err != nil {
		return nil, fmt.Errorf("configuration of %s: %w", aws.ToString(fn.PhysicalResourceId), err)
	}
	f := &Function{
		Name: aws.ToString(conf.FunctionName), Runtime: string(conf.Runtime), Handler: aws.ToString(conf.Handler),
		Env: map[string]string{}, TimeoutS: aws.ToInt32(conf.Timeout), MemoryMB: aws.ToInt32(conf.MemorySize),
		Bucket: bucket, Key: key,
	}
	if conf.Environment != nil {
		f.Env = conf.Environment.Variables
	}

	obj, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("code of %s at s3://%s/%s: %w", f.Name, bucket, key, err)
	}
	defer obj.Body.Close()
	zipped, err := io.ReadAll(obj.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	f.CodeBytes = len(zipped)
	// The zip must be the one the function was created from, not merely one with its name.
	sum := sha256.Sum256(zipped)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != aws.ToString(conf.CodeSha256) {
		return nil, fmt.Errorf("s3://%s/%s has sha256 %s, but %s was created from %s", bucket, key, got, f.Name, aws.ToString(conf.CodeSha256))
	}
	if f.Bootstrap, err = unzipBootstrap(zipped, dir); err != nil {
		return nil, fmt.Errorf("code of %s: %w", f.Name, err)
	}
	return f, nil
}

// codeLocation reads the function's Code.S3Bucket and S3Key from the stack's deployed template.
// CDK writes the bucket as Fn::Sub of the bootstrap bucket's name pattern.
func codeLocation(ctx context.Context, cfg aws.Config, cfn *cloudformation.Client, stack, logicalID string) (string, string, error) {
	out, err := cfn.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(stack), TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		return "", "", fmt.Errorf("template of %s: %w", stack, err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Properties struct {
				Code struct {
					S3Bucket json.RawMessage
					S3Key    string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.TemplateBody)), &tmpl); err != nil {
		return "", "", fmt.Errorf("template of %s: %w", stack, err)
	}
	code := tmpl.Resources[logicalID].Properties.Code
	var bucket string
	var sub struct {
		Sub string `json:"Fn::Sub"`
	}
	switch {
	case json.Unmarshal(code.S3Bucket, &bucket) == nil:
	case json.Unmarshal(code.S3Bucket, &sub) == nil && sub.Sub != "":
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", "", fmt.Errorf("account id: %w", err)
		}
		bucket = strings.NewReplacer("${AWS::AccountId}", aws.ToString(id.Account), "${AWS::Region}", cfg.Region).Replace(sub.Sub)
	default:
		return "", "", fmt.Errorf("%s in %s: Code.S3Bucket %s is neither a name nor an Fn::Sub", logicalID, stack, code.S3Bucket)
	}
	if bucket == "" || code.S3Key == "" || strings.Contains(bucket, "${") {
		return "", "", fmt.Errorf("%s in %s: cannot resolve its code location (bucket %q, key %q)", logicalID, stack, bucket, code.S3Key)
	}
	return bucket, code.S3Key, nil
}

// unzipBootstrap writes the zip's bootstrap into dir, keeping its mode: Lambda runs it as is,
// so a bootstrap zipped without its executable bit fails there (Runtime.InvalidEntrypoint),
// and must fail here too.
func unzipBootstrap(zipped []byte, dir string) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return "", fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != "bootstrap" {
			continue
		}
		if f.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("bootstrap is zipped with mode %v, not executable: Lambda could not run it", f.Mode())
		}
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		defer rc.Close()
		path := filepath.Join(dir, "bootstrap")
		out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, f.Mode().Perm())
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(out, rc); err != nil {
			out.Close()
			return "", err
		}
		if err := out.Close(); err != nil {
			return "", err
		}
		return path, checkRunsHere(path)
	}
	return "", fmt.Errorf("no bootstrap in the zip: provided.al2023 runs a file of that name")
}

// checkRunsHere: the emulator runs the binary natively, so it must be a Linux executable for
// this machine's architecture.
func checkRunsHere(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not a Linux executable: %w", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if f.Machine != want {
		return fmt.Errorf("bootstrap is built for %v, and this machine is %s: deploy the function for %s to run it here",
			f.Machine, runtime.GOARCH, map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH])
	}
	return nil
}

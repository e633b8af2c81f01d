package cfngap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// HMACKeys fills a third gap: moto's CloudFormation creates every AWS::KMS::Key as a
// SYMMETRIC_DEFAULT encryption key, whatever its KeySpec and KeyUsage (moto 5.2.1), so a
// declared HMAC key cannot GenerateMac. For each such key of the stack, HMACKeys creates the key
// the template declares (same KeySpec, KeyUsage and description; moto does not evaluate key
// policies, so the policy is left out) and points the stack's functions at it where their
// environment named the key moto made. It returns the keys it replaced, old key id → new ARN.
//
// moto's DescribeKey fails (HTTP 500) on a key its CloudFormation made, whose policy it stores
// as an object rather than a string; a GenerateMac probe tells whether the key is an HMAC key.
func HMACKeys(ctx context.Context, cfg aws.Config, stack string) (map[string]string, error) {
	cfn, kc, lc := cloudformation.NewFromConfig(cfg), kms.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return nil, err
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				KeySpec, KeyUsage, Description string
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &tmpl); err != nil {
		return nil, fmt.Errorf("template of %s: %w", stack, err)
	}
	physical, err := stackResources(ctx, cfn, stack)
	if err != nil {
		return nil, err
	}
	replaced := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		r := tmpl.Resources[id]
		if r.Type != "AWS::KMS::Key" || r.Properties.KeyUsage != string(kmstypes.KeyUsageTypeGenerateVerifyMac) {
			continue
		}
		_, err := kc.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(physical[id]),
			MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256, Message: []byte("cfngap probe")})
		var usage *kmstypes.InvalidKeyUsageException
		switch {
		case err == nil:
			continue // a CloudFormation that honours KeySpec: nothing to fill
		case !errors.As(err, &usage):
			return nil, fmt.Errorf("probe key %s (%s): %w", id, physical[id], err)
		}
		key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpec(r.Properties.KeySpec),
			KeyUsage: kmstypes.KeyUsageType(r.Properties.KeyUsage), Description: aws.String(r.Properties.Description)})
		if err != nil {
			return nil, fmt.Errorf("create the %s key %s declares: %w", r.Properties.KeySpec, id, err)
		}
		replaced[physical[id]] = aws.ToString(key.KeyMetadata.Arn)
	}
	if len(replaced) == 0 {
		return replaced, nil
	}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		if tmpl.Resources[id].Type == "AWS::Lambda::Function" {
			if err := repointFunction(ctx, lc, physical[id], replaced); err != nil {
				return nil, err
			}
		}
	}
	return replaced, nil
}

// stackResources maps the stack's logical ids to physical ids.
func stackResources(ctx context.Context, cfn *cloudformation.Client, stack string) (map[string]string, error) {
	out := map[string]string{}
	p := cloudformation.NewListStackResourcesPaginator(cfn, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list resources of %s: %w", stack, err)
		}
		for _, r := range page.StackResourceSummaries {
			out[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		}
	}
	return out, nil
}

// repointFunction replaces, in fn's environment, every value that names a replaced key, by its
// id or its ARN.
func repointFunction(ctx context.Context, lc *lambda.Client, fn string, replaced map[string]string) error {
	conf, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		return fmt.Errorf("read function %s: %w", fn, err)
	}
	if conf.Environment == nil {
		return nil
	}
	env, changed := maps.Clone(conf.Environment.Variables), false
	for k, v := range env {
		for old, to := range replaced {
			if v == old || strings.HasSuffix(v, ":key/"+old) {
				env[k], changed = to, true
			}
		}
	}
	if !changed {
		return nil
	}
	if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), Environment: &lambdatypes.Environment{Variables: env}}); err != nil {
		return fmt.Errorf("point function %s at the HMAC key: %w", fn, err)
	}
	return nil
}

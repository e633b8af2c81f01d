package cfngap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
)

// customResourceType is the custom resource type moto's CloudFormation skips (with a warning)
// rather than invoking its function in Docker and waiting for ever, as it does for Custom::*.
const customResourceType = "AWS::CloudFormation::CustomResource"

// Request is a CloudFormation custom resource request, as CloudFormation sends it to the
// resource's Lambda function: aws-lambda-go's cfn.Event, plus the ServiceToken CloudFormation
// also sends.
type Request struct {
	cfn.Event
	ServiceToken string `json:"ServiceToken"`
}

// Answer is what the function told CloudFormation at the ResponseURL.
type Answer = cfn.Response

// CustomResourceRun is one request sent and what came back.
type CustomResourceRun struct {
	Request Request
	// Answer is what the function PUT to the ResponseURL; nil if it never answered, which on
	// AWS leaves the stack waiting until the resource's ServiceTimeout.
	Answer *Answer
	// AnswerBytes is the answer's size: CloudFormation refuses one over 4,096 bytes.
	AnswerBytes int
	// Invoke is the invocation's own result (the function's response, or its error document).
	Invoke lambdarie.Response
}

// CustomResourceRequest builds the request CloudFormation sends the stack's one
// AWS::CloudFormation::CustomResource on a deploy: a Create, or, when old properties are given,
// an Update from them. The properties are the deployed template's, with the ServiceToken
// resolved to the function's ARN; override replaces some of them (an Update's new synth).
func CustomResourceRequest(ctx context.Context, cfg aws.Config, stack string, old, override map[string]any) (Request, error) {
	cf := cloudformation.NewFromConfig(cfg)
	body, err := discover.Template(ctx, cf, stack)
	if err != nil {
		return Request{}, err
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &tmpl); err != nil {
		return Request{}, fmt.Errorf("template of %s: %w", stack, err)
	}
	var req Request
	n := 0
	for id, r := range tmpl.Resources {
		if r.Type == customResourceType {
			req.LogicalResourceID, req.ResourceProperties, n = id, r.Properties, n+1
		}
	}
	if n != 1 {
		return Request{}, fmt.Errorf("stack %s has %d resources of type %s, want one", stack, n, customResourceType)
	}
	token, err := serviceToken(ctx, cfg, cf, stack, req.ResourceProperties["ServiceToken"])
	if err != nil {
		return Request{}, err
	}
	st, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil || len(st.Stacks) != 1 {
		return Request{}, fmt.Errorf("describe stack %s: %v", stack, err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	req.RequestType, req.ServiceToken, req.ResourceType = cfn.RequestCreate, token, customResourceType
	req.StackID, req.RequestID = aws.ToString(st.Stacks[0].StackId), hex.EncodeToString(id)
	req.ResourceProperties["ServiceToken"] = token
	for k, v := range override {
		req.ResourceProperties[k] = v
	}
	if old != nil {
		req.RequestType, req.OldResourceProperties = cfn.RequestUpdate, old
		req.PhysicalResourceID = req.LogicalResourceID
	}
	return req, nil
}

// serviceToken resolves {"Fn::GetAtt": [function, "Arn"]} to the deployed function's ARN.
func serviceToken(ctx context.Context, cfg aws.Config, cf *cloudformation.Client, stack string, v any) (string, error) {
	var getAtt struct {
		GetAtt []string `json:"Fn::GetAtt"`
	}
	b, _ := json.Marshal(v)
	if err := json.Unmarshal(b, &getAtt); err != nil || len(getAtt.GetAtt) != 2 || getAtt.GetAtt[1] != "Arn" {
		return "", fmt.Errorf("ServiceToken %s: want Fn::GetAtt of a function's Arn", b)
	}
	// ListStackResources, not DescribeStackResource: moto's fails (HTTP 500) when a resource its
	// CloudFormation skipped, such as the table's auto scaling, comes before the one asked for.
	physical, err := physicalIDs(ctx, cf, stack)
	if err != nil {
		return "", fmt.Errorf("ServiceToken %s: %w", b, err)
	}
	name := physical[getAtt.GetAtt[0]]
	if name == "" {
		return "", fmt.Errorf("ServiceToken %s: stack %s has no resource %s", b, stack, getAtt.GetAtt[0])
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("account id: %w", err)
	}
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, aws.ToString(who.Account), name), nil
}

// RunCustomResource does during a local deploy what moto's CloudFormation does not: sends req
// to the resource's function, running under the emulator, with a ResponseURL on this machine
// in place of CloudFormation's pre-signed S3 URL, and returns what the function answered there.
// That URL is plain http on 127.0.0.1, which the function answers only when started with
// FunctionArgs.
func RunCustomResource(ctx context.Context, emu *lambdarie.Emulator, req Request) (CustomResourceRun, error) {
	run := CustomResourceRun{Request: req}
	var mu sync.Mutex
	var answerErr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b, err := io.ReadAll(r.Body)
		var a Answer
		switch {
		case r.Method != http.MethodPut:
			answerErr = fmt.Errorf("the function answered with %s, not PUT", r.Method)
		case err != nil:
			answerErr = err
		case json.Unmarshal(b, &a) != nil:
			answerErr = fmt.Errorf("the function's answer is not JSON: %s", b)
		default:
			run.Answer, run.AnswerBytes = &a, len(b)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	run.Request.ResponseURL = srv.URL + "/cloudformation-response"
	event, err := json.Marshal(run.Request)
	if err != nil {
		return run, err
	}
	if run.Invoke, err = emu.Invoke(ctx, event); err != nil {
		return run, err
	}
	mu.Lock()
	defer mu.Unlock()
	return run, answerErr
}

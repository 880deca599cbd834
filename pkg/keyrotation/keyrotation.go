// Package keyrotation rotates uauth's token signing key with Secrets
// Manager's rotation protocol: Secrets Manager calls the function four
// times per rotation (createSecret, setSecret, testSecret, finishSecret),
// and the new key becomes AWSCURRENT while the old one stays as
// AWSPREVIOUS. uauth signs with the current version and verifies with both,
// and publishes both in its JWKS, so a rotation needs no coordination: a
// token signed just before it still verifies everywhere.
//
// The same function makes the first key: the stack's secret starts as a
// placeholder, and its rotation schedule rotates it once at creation.
package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManager is the part of the Secrets Manager client rotation uses.
type SecretsManager interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

const (
	current = "AWSCURRENT"
	pending = "AWSPENDING"
)

// Rotator rotates one kind of key.
type Rotator struct {
	SM SecretsManager
	// Generate makes a new key's secret string.
	Generate func() ([]byte, error)
	// Check validates a key before it becomes current.
	Check func([]byte) error
}

// Handle runs one step of a rotation. Each step is idempotent: Secrets
// Manager retries a step that failed.
func (r *Rotator) Handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	desc, err := r.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &ev.SecretID})
	if err != nil {
		return fmt.Errorf("describing the secret: %w", err)
	}
	if !aws.ToBool(desc.RotationEnabled) {
		return errors.New("rotation is not enabled on the secret")
	}
	stages, ok := desc.VersionIdsToStages[ev.ClientRequestToken]
	switch {
	case !ok:
		return fmt.Errorf("version %s is not a version of the secret", ev.ClientRequestToken)
	case slices.Contains(stages, current):
		return nil // already done
	case !slices.Contains(stages, pending):
		return fmt.Errorf("version %s is not AWSPENDING", ev.ClientRequestToken)
	}
	switch ev.Step {
	case "createSecret":
		return r.create(ctx, ev)
	case "setSecret":
		return nil // the key lives only in the secret
	case "testSecret":
		v, err := r.SM.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String(pending)})
		if err != nil {
			return fmt.Errorf("reading the pending key: %w", err)
		}
		return r.Check([]byte(aws.ToString(v.SecretString)))
	case "finishSecret":
		return r.finish(ctx, ev, desc.VersionIdsToStages)
	default:
		return fmt.Errorf("unknown rotation step %q", ev.Step)
	}
}

// create puts a new key as the AWSPENDING version, unless a retry of this
// step already did.
func (r *Rotator) create(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	_, err := r.SM.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String(pending)})
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &missing):
		return fmt.Errorf("reading the pending key: %w", err)
	}
	key, err := r.Generate()
	if err != nil {
		return err
	}
	_, err = r.SM.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: &ev.SecretID, ClientRequestToken: &ev.ClientRequestToken,
		SecretString: aws.String(string(key)), VersionStages: []string{pending},
	})
	if err != nil {
		return fmt.Errorf("putting the new key: %w", err)
	}
	return nil
}

// finish makes the pending version current; the old current version
// becomes AWSPREVIOUS.
func (r *Rotator) finish(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, versions map[string][]string) error {
	var old *string
	for id, stages := range versions {
		if slices.Contains(stages, current) {
			old = aws.String(id)
		}
	}
	_, err := r.SM.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: &ev.SecretID, VersionStage: aws.String(current),
		MoveToVersionId: &ev.ClientRequestToken, RemoveFromVersionId: old,
	})
	if err != nil {
		return fmt.Errorf("making the new key current: %w", err)
	}
	return nil
}

// Package uauth embeds the AWS SAM template, the single source of truth for
// the deployed stack, so that the local stack and the tests build the table
// from the same definition (see package stack).
package uauth

import _ "embed"

// Template is template.yaml.
//
//go:embed template.yaml
var Template []byte

// Command local is uauth's local stack (make run), its dev-token minter
// (make token) and the wrapper that gives make test a DynamoDB Local.
//
//	go run ./infra/local [run]                 the stack: DynamoDB Local, table, API, event injection
//	go run ./infra/local token [flags]         print a dev token
//	go run ./infra/local with-dynamodb -- CMD  run CMD with DYNAMODB_ENDPOINT set to a fresh in-memory DynamoDB Local
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	cmd, args := "run", os.Args[1:]
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = run(args)
	case "token":
		err = token(args)
	case "with-dynamodb":
		err = withDynamoDB(args)
	default:
		err = fmt.Errorf("unknown command %q: want run, token or with-dynamodb", cmd)
	}
	if err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

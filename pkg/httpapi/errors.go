package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
	"github.com/uauth/uauth/pkg/validation"
)

// throttled is a store's error for a database that throttled a request
// beyond its retries (dynamostore.ThrottledError): a 503, not a 500.
type throttled interface{ Throttled() bool }

// retryAfter is the Retry-After of a 503, in seconds: DynamoDB on demand
// adapts to a burst within seconds.
const retryAfter = "1"

// Errors of the HTTP layer itself.
var (
	errRouteNotFound    = errors.New("Route not found")
	errMethodNotAllowed = errors.New("Method not allowed")
	errInternal         = errors.New("Something went wrong")
)

// errorBody is the error shape every Infisical client understands.
type errorBody struct {
	ReqID      string `json:"reqId"`
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"` // a string, or the issues of a 422
	Error      string `json:"error"`
	Details    any    `json:"details,omitempty"`
}

// boundaryDetails is a permission-boundary refusal's details, as Infisical
// sends them: the permissions the caller would need.
type boundaryDetails struct {
	MissingPermissions []string `json:"missingPermissions"`
}

// statusOf is the one place where errors become HTTP statuses and the
// contract's error names.
func statusOf(err error) (int, string) {
	var (
		tooBig       *http.MaxBytesError
		invalid      *validation.Error
		noConfig     *uaconfig.NotFoundError
		noSecret     *clientsecret.NotFoundError
		unauthorized *caller.UnauthorizedError
		boundary     *caller.BoundaryError
		busy         throttled
	)
	switch {
	case errors.Is(err, caller.ErrTokenMissing), errors.As(err, &unauthorized):
		return http.StatusUnauthorized, "UnauthorizedError"
	case errors.Is(err, caller.ErrInvalidToken):
		return http.StatusForbidden, "TokenError"
	case errors.Is(err, caller.ErrPermissionDenied):
		return http.StatusForbidden, "PermissionDenied"
	case errors.As(err, &boundary):
		return http.StatusForbidden, "PermissionBoundaryError"
	case errors.Is(err, uaconfig.ErrIPNotTrusted):
		return http.StatusForbidden, "ForbiddenError"
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, "ValidationFailure"
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	case errors.Is(err, identity.ErrNotFound), errors.As(err, &noConfig), errors.As(err, &noSecret), errors.Is(err, errRouteNotFound):
		return http.StatusNotFound, "NotFound"
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "MethodNotAllowed"
	case errors.Is(err, identity.ErrConflict):
		return http.StatusConflict, "Conflict"
	case errors.As(err, &busy) && busy.Throttled():
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case errors.Is(err, uaconfig.ErrInvalidIP),
		errors.Is(err, uaconfig.ErrTTLExceedsMax),
		errors.Is(err, uaconfig.ErrAlreadyConfigured),
		errors.Is(err, uaconfig.ErrNotConfigured),
		errors.Is(err, accesstoken.ErrNotIdentityToken):
		return http.StatusBadRequest, "BadRequest"
	default:
		return http.StatusInternalServerError, "InternalServerError"
	}
}

// writeError sends err in the contract's error shape. A 500 is logged with
// its cause and answered with a generic message, as is a token refusal,
// whose reason would help a forger; the rest are logged at info level,
// since they are the caller's doing.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, name := statusOf(err)
	var message any = err.Error()
	var details any
	var invalid *validation.Error
	var tooBig *http.MaxBytesError
	var boundary *caller.BoundaryError
	switch {
	case status == http.StatusInternalServerError:
		logger(r).ErrorContext(r.Context(), "request failed", slog.String("error", err.Error()))
		message = errInternal.Error()
	case errors.Is(err, caller.ErrInvalidToken):
		message = caller.ErrInvalidToken.Error()
	case errors.As(err, &invalid):
		message = invalid.Issues
	case errors.As(err, &tooBig):
		message = "Request body is larger than the limit"
	case errors.As(err, &boundary):
		details = boundaryDetails{MissingPermissions: boundary.Missing}
	case status == http.StatusServiceUnavailable:
		logger(r).WarnContext(r.Context(), "request throttled by the database", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", retryAfter)
		message = "The service is busy, please retry later"
	}
	if status != http.StatusInternalServerError {
		logger(r).LogAttrs(r.Context(), slog.LevelInfo, "request refused", slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeJSON(w, status, errorBody{ReqID: requestID(r), StatusCode: status, Message: message, Error: name, Details: details})
}

package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/uauth/uauth/pkg/auth"
	"github.com/uauth/uauth/pkg/universalauth"
)

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
}

// statusOf is the one place where errors become HTTP statuses and the
// contract's error names.
func statusOf(err error) (int, string) {
	var tooBig *http.MaxBytesError
	var invalid *universalauth.ValidationError
	switch {
	case errors.Is(err, auth.ErrTokenMissing):
		return http.StatusUnauthorized, "UnauthorizedError"
	case errors.Is(err, auth.ErrInvalidToken):
		return http.StatusForbidden, "TokenError"
	case errors.Is(err, auth.ErrPermissionDenied):
		return http.StatusForbidden, "PermissionDenied"
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, "ValidationFailure"
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	case errors.Is(err, universalauth.ErrIdentityNotFound), errors.Is(err, errRouteNotFound):
		return http.StatusNotFound, "NotFound"
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "MethodNotAllowed"
	case errors.Is(err, universalauth.ErrInvalidIP),
		errors.Is(err, universalauth.ErrTTLExceedsMax),
		errors.Is(err, universalauth.ErrAlreadyConfigured),
		errors.Is(err, universalauth.ErrNotConfigured):
		return http.StatusBadRequest, "BadRequest"
	default:
		return http.StatusInternalServerError, "InternalServerError"
	}
}

// writeError sends err in the contract's error shape. A 500 is logged with
// its cause and answered with a generic message; the rest are logged at
// info level, since they are the caller's doing.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, name := statusOf(err)
	var message any = err.Error()
	var invalid *universalauth.ValidationError
	var tooBig *http.MaxBytesError
	switch {
	case status == http.StatusInternalServerError:
		logger(r).ErrorContext(r.Context(), "request failed", slog.String("error", err.Error()))
		message = errInternal.Error()
	case errors.As(err, &invalid):
		message = invalid.Issues
	case errors.As(err, &tooBig):
		message = "Request body is larger than the limit"
	}
	if status != http.StatusInternalServerError {
		logger(r).InfoContext(r.Context(), "request refused", slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeJSON(w, status, errorBody{ReqID: requestID(r), StatusCode: status, Message: message, Error: name})
}

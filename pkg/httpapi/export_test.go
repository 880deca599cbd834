package httpapi

import (
	"net/http"
	"slices"
)

// RoutePatterns returns the ServeMux patterns h, made by New, registered,
// in the order it registered them.
func RoutePatterns(h http.Handler) []string {
	return slices.Clone(h.(*handler).mux.patterns)
}

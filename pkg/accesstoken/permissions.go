package accesstoken

import (
	"context"
	"errors"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
)

// Permissions implements caller.IdentityTokens: the identity's current
// permissions, read when a limited token's use proved only one of them
// (Use) and a permission boundary needs them all. An identity deleted since
// its token's use is gone, as its token is.
func (s *Service) Permissions(ctx context.Context, a caller.Actor) ([]string, error) {
	perms, err := s.Store.IdentityPermissions(ctx, a.OrgID, a.ID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, ErrIdentityGone
	}
	return perms, err
}

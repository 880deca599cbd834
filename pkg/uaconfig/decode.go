package uaconfig

import (
	"strconv"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/validation"
)

// DecodeSettings parses a request body (a JSON object of configuration
// fields, all optional) in one pass and in two stages, as the contract
// orders them: first the schema, reporting every problem at once as a
// *validation.Error; then the semantics of the trusted IPs (ErrInvalidIP).
//
// Names are matched exactly and may not repeat. Unknown fields and null
// fields are ignored (a null in a list is refused), and an empty body is an
// empty object.
//
// If the body carries "identityId" it must be the same UUID as identityID
// (canonical, see identity.CanonicalID); pass "" where no identity is in
// scope (a default configuration).
func DecodeSettings(body []byte, identityID string) (Settings, error) {
	return DecodeSettingsWith(body, identityID, nil)
}

// DecodeSettingsWith is DecodeSettings for a body that carries members of
// its own beside the settings: extra is called with every other name, and
// must consume its value (or skip it).
func DecodeSettingsWith(body []byte, identityID string, extra func(o *strictjson.Object, name string) error) (Settings, error) {
	var s Settings
	var ips [numFields][]string
	err := strictjson.Decode(body, true, func(o *strictjson.Object, name string) error {
		if name == "identityId" {
			return checkIdentity(o, identityID)
		}
		f := FieldByName(name)
		switch {
		case f == nil && extra != nil:
			return extra(o, name)
		case f == nil:
			return o.Skip()
		}
		switch f.Kind {
		case Int:
			n, ok, err := o.Int(f.Name, f.Min, f.Max)
			if ok {
				s.SetInt(f.ID, n)
			}
			return err
		case Bool:
			b, ok, err := o.Bool(f.Name)
			if ok {
				s.SetBool(f.ID, b)
			}
			return err
		default:
			list, ok, err := ipList(o, f.Name)
			if ok {
				ips[f.ID] = list
				s.mark(f.ID)
			}
			return err
		}
	})
	if err != nil {
		return Settings{}, err
	}
	for id, list := range ips {
		if list == nil {
			continue
		}
		parsed := make(TrustedIPs, len(list))
		for i, text := range list {
			if parsed[i], err = ParseTrustedIP(text); err != nil {
				return Settings{}, err
			}
		}
		*Fields[id].ipsOf(&s.values) = parsed
	}
	return s, nil
}

// CheckBodyIdentity validates the optional body of a request that takes no
// fields (DELETE, revoke): it must be a JSON object, if anything, and an
// identityId in it must match the path. Every other field is ignored.
func CheckBodyIdentity(body []byte, identityID string) error {
	return strictjson.Decode(body, true, func(o *strictjson.Object, name string) error {
		if name == "identityId" {
			return checkIdentity(o, identityID)
		}
		return o.Skip()
	})
}

// checkIdentity reads the identityId that clients such as the Terraform
// provider repeat from the path, and checks it matches.
func checkIdentity(o *strictjson.Object, identityID string) error {
	if identityID == "" {
		return o.Skip()
	}
	got, ok, err := o.String("identityId")
	if ok {
		if id, _ := identity.CanonicalID(got); id != identityID {
			o.Issue("identityId", "does not match the identity id in the path")
		}
	}
	return err
}

// ipList checks the shape of a trusted-IP list: a non-empty array of
// objects with a string ipAddress. The addresses are parsed later, once the
// whole body has passed the schema.
//
// A list the schema refuses must never read as "not given", which would
// leave the default (every address) in force. So ok is false only for a
// null list (not given) or with an issue recorded: an element is refused
// only by the problem ipEntry returns for it.
func ipList(o *strictjson.Object, name string) ([]string, bool, error) {
	list := []string{}
	valid := true
	present, err := o.Array(name, func(i int) error {
		path := name + "." + strconv.Itoa(i)
		addr, problem, at, err := ipEntry(o, path)
		if problem != "" {
			o.Issue(path+at, problem)
			valid = false
		}
		list = append(list, addr)
		return err
	})
	if err != nil || !present {
		return nil, false, err
	}
	if len(list) == 0 {
		o.Issue(name, "must contain at least 1 entry")
		return nil, false, nil
	}
	return list, valid, nil
}

// ipEntry reads the element of a trusted-IP list at path. It returns its
// address, or else the problem that refuses it, at the element ("") or at
// its ".ipAddress": every element is one or the other, null included. It
// checks kinds itself, so that no reader of strictjson records an issue of
// its own.
func ipEntry(o *strictjson.Object, path string) (addr, problem, at string, err error) {
	if k := o.Kind(); k != '{' {
		return "", "expected an object, got " + validation.KindName(k), "", o.Skip()
	}
	problem = "is required"
	_, err = o.Object(path, func(o *strictjson.Object, member string) error {
		switch k := o.Kind(); {
		case member != "ipAddress" || k == 'n': // a null ipAddress is a missing one
			return o.Skip()
		case k != '"':
			problem = "expected a string, got " + validation.KindName(k)
			return o.Skip()
		}
		problem = ""
		addr, _, err = o.String(member)
		return err
	})
	return addr, problem, ".ipAddress", err
}

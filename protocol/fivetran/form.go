package fivetran

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/invopop/jsonschema"

	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
)

// formFields returns the setup form of a configuration's JSON Schema: a
// field per top-level property, in order. A boolean is a toggle, an enum
// a dropdown, a writeOnly property a password, anything else text (an
// array as comma-separated values, an object as JSON).
func formFields(sch *jsonschema.Schema) []*fivetranpb.FormField {
	if sch == nil || sch.Properties == nil {
		return nil
	}
	var fields []*fivetranpb.FormField
	for p := sch.Properties.Oldest(); p != nil; p = p.Next() {
		prop := p.Value
		f := &fivetranpb.FormField{Name: p.Key, Label: prop.Title}
		if f.Label == "" {
			f.Label = label(p.Key)
		}
		req := slices.Contains(sch.Required, p.Key)
		f.Required = &req
		if prop.Description != "" {
			f.Description = &prop.Description
		}
		switch {
		case prop.Type == "boolean":
			f.Type = &fivetranpb.FormField_ToggleField{ToggleField: &fivetranpb.ToggleField{}}
		case len(prop.Enum) > 0:
			var opts []string
			for _, v := range prop.Enum {
				opts = append(opts, fmt.Sprint(v))
			}
			f.Type = &fivetranpb.FormField_DropdownField{DropdownField: &fivetranpb.DropdownField{DropdownField: opts}}
		case prop.WriteOnly:
			f.Type = &fivetranpb.FormField_TextField{TextField: fivetranpb.TextField_Password}
		default:
			f.Type = &fivetranpb.FormField_TextField{TextField: fivetranpb.TextField_PlainText}
		}
		if prop.Default != nil {
			d := formValue(prop.Default)
			f.DefaultValue = &d
		}
		if len(prop.Examples) > 0 {
			e := formValue(prop.Examples[0])
			f.Placeholder = &e
		}
		fields = append(fields, f)
	}
	return fields
}

// label makes a label of a property name: "page_size" is "Page size".
func label(name string) string {
	s := strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' }), " ")
	if s == "" {
		return name
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// formValue returns a JSON value as a form's text: a string as itself,
// anything else as JSON.
func formValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// configJSON returns the configuration a form's strings describe, as a
// JSON object: each value converted to its property's type. An empty
// value is left out, so the property keeps its default; a value of a
// property the schema does not have is kept as a string.
func configJSON(sch *jsonschema.Schema, conf map[string]string) ([]byte, error) {
	obj := make(map[string]any, len(conf))
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		text := conf[k]
		if strings.TrimSpace(text) == "" {
			continue
		}
		var prop *jsonschema.Schema
		if sch != nil && sch.Properties != nil {
			prop, _ = sch.Properties.Get(k)
		}
		v, err := typed(prop, text)
		if err != nil {
			return nil, &protocol.ConfigError{Err: fmt.Errorf("field %q: %w", k, err)}
		}
		obj[k] = v
	}
	return json.Marshal(obj)
}

// typed converts a form's text to a value of prop's type.
func typed(prop *jsonschema.Schema, text string) (any, error) {
	if prop == nil {
		return text, nil
	}
	t := strings.TrimSpace(text)
	switch prop.Type {
	case "boolean":
		b, err := strconv.ParseBool(t)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", text)
		}
		return b, nil
	case "integer":
		if _, err := strconv.ParseInt(t, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not a whole number", text)
		}
		return json.Number(t), nil
	case "number":
		if _, err := strconv.ParseFloat(t, 64); err != nil || !json.Valid([]byte(t)) {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		return json.Number(t), nil
	case "array":
		if strings.HasPrefix(t, "[") {
			return json.RawMessage(t), validJSON(t)
		}
		var items []any
		for _, s := range strings.Split(t, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			v, err := typed(prop.Items, s)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return items, nil
	case "object":
		return json.RawMessage(t), validJSON(t)
	}
	return text, nil
}

func validJSON(s string) error {
	if !json.Valid([]byte(s)) {
		return fmt.Errorf("%q is not valid JSON", s)
	}
	return nil
}

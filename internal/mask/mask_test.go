package mask

import "testing"

func TestMask(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{IDNumber("110101199003074514"), "110***********4514"},
		{Mobile("13800138000"), "138****8000"},
		{Card("6222020200112345678"), "6222********5678"},
		{Card("6222020200111234"), "6222********1234"},
		{Name("张三"), "*三"},
		{Name("欧阳娜娜"), "***娜"},
		{Name("张"), "*"},
		{Name(""), ""},
		{Keep("abc", 2, 2), "***"},
		{Secret("123456"), "******"},
		{Secret(""), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

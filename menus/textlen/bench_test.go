package textlen_test

import (
	"testing"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

const (
	asciiScreen = "Welcome to Barefoot, Dr Wang.\n" +
		"1. Report a home visit\n2. My reports this week\n" +
		"3. Children due for follow-up\n4. Help\n98. More  00. Back"
	chineseScreen = "欢迎使用赤脚医生随访系统，王医生。\n" +
		"1. 上报家访\n2. 本周报告\n3. 待随访儿童\n4. 帮助\n98. 更多 00. 返回"
)

func BenchmarkMeasure(b *testing.B) {
	for _, bm := range []struct{ name, s string }{
		{"ascii", asciiScreen},
		{"chinese", chineseScreen},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.s)))
			for b.Loop() {
				textlen.Measure(bm.s)
			}
		})
	}
}

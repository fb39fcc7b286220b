/**
 * exceljs's streaming reader used to cut a character that straddles two 16 KB chunks into U+FFFD (exceljs #2084):
 * one name in some hundreds of a large Chinese roster. Every name of a roster of thousands reads back whole.
 */
import test from 'ava';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { openRoster } from '../../pipeline/ingest/roster.js';
import { tempDir } from '../helpers/roster-workbook.js';

const HEADER = ['序号', '姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'];
const CHARS = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦'];

for (const useSharedStrings of [true, false]) {
  test(`the names of a 6,000-row roster read back whole (${useSharedStrings ? 'shared strings' : 'inline strings'})`, async (t) => {
    const file = join(await tempDir(), 'large.xlsx');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings });
    const ws = wb.addWorksheet('名单');
    ws.addRow(HEADER).commit();
    const names: string[] = [];
    for (let i = 0; i < 6000; i++) {
      // Distinct names of two to four characters, so that the strings do not line up with the chunks.
      const name = Array.from({ length: 2 + (i % 3) }, (_, k) => CHARS[(i * (k + 3) + k * 7) % CHARS.length]).join('') + String(i);
      names.push(name);
      ws.addRow([i + 1, name, '201', '110101198503120033', '电工', '', '三级', '合格', '2026-11-20']).commit();
    }
    await wb.commit();
    const r = await openRoster(file);
    const read: string[] = [];
    for await (const row of r.rows) {
      const cell = row.cells.name;
      read.push(cell && cell.kind === 'text' ? cell.text : '');
    }
    t.is(read.length, names.length);
    t.deepEqual(read.filter((n) => n.includes('\uFFFD')), []);
    t.deepEqual(read, names);
  });
}

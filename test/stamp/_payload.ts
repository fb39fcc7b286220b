import type { QrInput } from '../../pipeline/stamp/qr.js';

/** A long but realistic payload: a name with a middle dot, a long occupation and a long job. */
export const LONG: QrInput = {
  number: 'Y000111020001225000001',
  name: '阿卜杜拉·买买提',
  idNo: '11010519491231002X',
  occupation: '计算机程序设计员',
  job: '网络与信息安全管理员',
  level: 3,
  issueDate: '2022-05-01',
  orgCode: '0001',
};

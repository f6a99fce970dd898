export const ARN_CONTEXT = Symbol('ArnContext');

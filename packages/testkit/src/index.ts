export { startServer, type TestServer, type ServerKind, type StartServerOptions } from './server.js';
export { ferretdbBinary, hasGo } from './ferretdbBinary.js';
export { generateDocs, generateMixed, makeDoc, seededRandom, shapeTargetBytes, typeProfileFor, type Shape, type TypeProfile } from './generators.js';
export { canonical, idKey, readBackById, sameDocument } from './compare.js';

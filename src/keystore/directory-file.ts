import { z } from 'zod';
import { AuthorityPublicKey, Signed } from '../../protocol/v1/certificate.js';
import { pinAuthority } from '../crypto/certificate.js';
import { Directory } from '../directory/directory.js';
import { readJsonFile, writePublicFile } from './files.js';

/** A directory on disk: the authority's public key, its statements in order, and its head. */
export const DirectoryFile = z.strictObject({
  v: z.literal(1),
  authority: AuthorityPublicKey,
  statements: z.array(Signed),
  head: Signed.optional().describe('the signed directory head, once the authority signed one'),
});
export type DirectoryFile = z.infer<typeof DirectoryFile>;

/**
 * Loads a directory file, verifying every statement. `pinned` is the authority key the reader
 * trusts; without it, the key in the file is trusted (only for files the reader wrote itself).
 */
export async function loadDirectory(path: string, pinned?: unknown): Promise<Directory> {
  const file = DirectoryFile.parse(await readJsonFile(path));
  const authority = await pinAuthority(pinned ?? file.authority);
  const directory = new Directory(authority);
  directory.applyAll(file.statements);
  return directory;
}

/** Appends statements to a directory file after checking they apply. The old head is kept. */
export async function appendToDirectory(path: string, statements: readonly Signed[]) {
  const file = DirectoryFile.parse(await readJsonFile(path));
  const directory = new Directory(await pinAuthority(file.authority));
  directory.applyAll([...file.statements, ...statements]);
  await writeDirectoryFile(path, { ...file, statements: [...file.statements, ...statements] });
}

/** Puts a signed head into a directory file after checking it names the file's whole log. */
export async function setDirectoryHead(path: string, head: Signed) {
  const file = DirectoryFile.parse(await readJsonFile(path));
  const directory = new Directory(await pinAuthority(file.authority));
  directory.applyAll(file.statements);
  directory.checkHead(head, Date.now());
  await writeDirectoryFile(path, { ...file, head });
}

export async function writeDirectoryFile(path: string, file: DirectoryFile): Promise<void> {
  await writePublicFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

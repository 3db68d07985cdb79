/**
 * The one container-name mapping. Docker keeps a container's name with a leading slash (`/web`:
 * names were once paths of links), in inspect's `Name` and in the list's `Names`; dockernet shows
 * and matches names without it. A list entry without a name shows its id.
 */
export function containerName(name: string | undefined, id: string): string {
  return (name ?? id).replace(/^\//, "");
}

// madge ships no types (and @types/madge is not a dependency): the part of its API the tests use.
declare module 'madge' {
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string | object;
    [option: string]: unknown;
  }
  interface MadgeInstance {
    /** module → the modules it imports, paths relative to the base directory */
    obj(): Record<string, string[]>;
    /** the import cycles, each a list of modules */
    circular(): string[][];
  }
  function madge(path: string | string[] | object, config?: MadgeConfig): Promise<MadgeInstance>;
  export default madge;
}

import { defineConfig } from 'vitepress';

/**
 * The docs site. Pages are Markdown beside this folder; code samples are imported from
 * examples/*.ts (`<<< @/examples/...`), which `npm run typecheck` compiles, so they
 * cannot drift from the API.
 */
export default defineConfig({
  title: 'NoiseRefine',
  description: 'Guided-quality diffusion sampling without guidance, in TypeScript.',
  cleanUrls: true,
  lastUpdated: false,
  // The architecture notes are also read on the repository host as README.md.
  rewrites: { 'architecture/README.md': 'architecture/index.md' },
  srcExclude: ['examples/**/*.md'],
  // Links to package READMEs point into the repository (read there), outside the site.
  ignoreDeadLinks: [/\/packages\/[a-z-]+\/README$/],
  themeConfig: {
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Pipelines', link: '/pipelines/' },
      { text: 'NoiseRefine', link: '/guide/noiserefine' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Getting started', link: '/guide/getting-started' },
          { text: 'Backends', link: '/guide/backends' },
          { text: 'Schedulers', link: '/guide/schedulers' },
          { text: 'Guidance', link: '/guide/guidance' },
          { text: 'NoiseRefine: refiners', link: '/guide/noiserefine' },
          { text: 'Errors', link: '/guide/errors' },
        ],
      },
      {
        text: 'Pipelines',
        items: [
          { text: 'Overview', link: '/pipelines/' },
          { text: 'SiT', link: '/pipelines/sit' },
          { text: 'Stable Diffusion 2.1', link: '/pipelines/sd21' },
          { text: 'Stable Diffusion XL', link: '/pipelines/sdxl' },
        ],
      },
      {
        text: 'Results',
        items: [
          { text: 'NoiseRefine on the tiny zoo', link: '/results/noiserefine-bench' },
          { text: 'MSD vs full back-propagation', link: '/results/msd-vs-full' },
        ],
      },
      { text: 'Architecture', items: [{ text: 'Packages and contracts', link: '/architecture/' }] },
    ],
  },
});

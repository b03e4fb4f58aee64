// The demo post is the page in docs/demo-source.txt: its text, caption and byline verbatim.
export const FLAGSHIP_POST_PARAGRAPHS: readonly string[] = [
  "The Russian Foreign Ministry has put out a statement saying that Moscow was clarifying its position in the wake of reports that Russia and the United States have agreed to share intelligence on IS in Syria and Iraq.",
  "The statement stressed that Moscow will not be part of the U.S.-led coalition against the Islamic State (IS) group.",
  "The Russian media, including government daily \"Rossiiskaya gazeta,\" put a positive spin on the reports, which followed a meeting between U.S. Secretary of State John Kerry and his Russian counterpart, Sergei Lavrov.",
  "Pro-Kremlin RT in English also put a positive slant on the Kerry-Lavrov meeting, reporting that \"Washington and Moscow are renewing security cooperation, which ground to a halt amid the rift caused by the Ukrainian crisis. The two are back in business together to share intelligence on the Islamic State (IS, formerly ISIS) militant group.\"",
  "However, the Russian Foreign Ministry insisted that Russia's involvement on intelligence sharing will remain within its existing efforts to assist Syria and Iraq in fighting terrorism. The ministry also reiterates Moscow's criticisms of the U.S. led anti-IS coalition in Syria and Iraq, namely that the coalition may be in violation of international law.",
  "Referring to the meeting between Lavrov and Kerry, the Foreign Ministry said: \"Lavrov, for his part, stressed that Russia has long and consistently combatted terror and provides assistance to other countries regarding the terrorist threat, including the provision of significant assistance to Syria, Iraq and other countries in the region to strengthen their combat capabilities. Russia will continue these efforts, but will not be involved in some 'coalition' created by bypassing the UN Security Council and in violation of international law.\"",
  "The Russian Foreign Ministry also criticized -- albeit indirectly -- the U.S. response to Russia's annexation of Crimea, noting in its statement that the United States and Russia had been committed to exchanging information as part of the U.S.-Russia Bilateral Presidential Commission's antiterror group.",
  "However, the commission ground to a halt in March after the United States informed Russia that it would not participate in scheduled working-group meetings, due to Russia's actions in Ukraine.",
  "\"The activities of the Presidential Commission and all its mechanisms, including the antiterror group, were unilaterally terminated by the American side,\" the Russian Foreign Ministry said.",
  "The ministry's statement came after Russian President Vladimir Putin accused the United States of attempting to \"blackmail\" Moscow. Putin told Serbian daily \"Politika\" that Washington was meddling in Russian affairs and was provoking a \"civil war\" in Ukraine.",
  "The statement also came after reports that U.S. special envoy General John Allen said one of the goals of the U.S.-led coalition in Syria was to build up elements of the Free Syrian Army (FSA) so that it will be able to fight the Islamic State group.",
  "Moscow opposes U.S. efforts to support the FSA against Russia's ally, Syrian President Bashar al-Assad, and has insisted that there is no difference between the FSA and armed Islamist groups in Syria."
]

export const FLAGSHIP_BLOG_ABOUT = "\"Under The Black Flag\" provides news, opinion, and analysis about the impact of the Islamic State (IS) extremist group in Syria, Iraq, and beyond. It focuses not only on the fight against terrorist groups in the Middle East, but also on the implications for the region and the world."

/** The page's lead photo and its caption. The page shows the photo; the file itself is not part of the demo. */
export const FLAGSHIP_LEAD_IMAGE = {
  url: 'https://static.example.com/under-the-black-flag/2014/10/kerry-lavrov-paris.jpg',
  alt: 'John Kerry and Sergei Lavrov talking at a meeting in Paris',
  caption: 'U.S. Secretary of State John Kerry (right) speaks with Russian Foreign Minister Sergei Lavrov during a meeting in Paris on October 14.',
  credit: null,
  width: null,
  height: null
} as const

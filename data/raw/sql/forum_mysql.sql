-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: helpforum
-- ------------------------------------------------------
-- Server version	8.0.36-0ubuntu0.22.04.1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!50503 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Table structure for table `avatars`
--

DROP TABLE IF EXISTS `avatars`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `avatars` (
  `user_id` int NOT NULL,
  `mime_type` varchar(32) NOT NULL DEFAULT 'image/png',
  `image` blob NOT NULL,
  PRIMARY KEY (`user_id`),
  CONSTRAINT `avatars_ibfk_1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `avatars`
--

LOCK TABLES `avatars` WRITE;
/*!40000 ALTER TABLE `avatars` DISABLE KEYS */;
INSERT INTO `avatars` VALUES (1,'image/png',X'89504E470D0A1A0A0000000D494844520000006A00000038080600000015676D6B0000080049444154E8F78AEC5B770C'),(2,'image/png',X'89504E470D0A1A0A0000000D49484452000000320000007608060000008AF6C0CB00000800494441549D5B2B8DB6A99B2E624A9E6D90940B'),(6,'image/png',X'89504E470D0A1A0A0000000D494844520000007A0000005D08060000006AF0726A00000800494441');
/*!40000 ALTER TABLE `avatars` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `posts`
--

DROP TABLE IF EXISTS `posts`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `posts` (
  `id` int NOT NULL AUTO_INCREMENT,
  `user_id` int NOT NULL,
  `title` varchar(255) NOT NULL,
  `body` text NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_posts_user` (`user_id`),
  CONSTRAINT `posts_ibfk_1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=71 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `posts`
--

LOCK TABLES `posts` WRITE;
/*!40000 ALTER TABLE `posts` DISABLE KEYS */;
INSERT INTO `posts` VALUES (1,1,'Rear brake rubbing after wheel change','I swapped my rear wheel for a spare last night and now the disc brake rubs on every turn. The wheel is seated properly and the quick release is tight. Do I need to move the caliper, or is the rotor bent?\n\nThanks in advance,\nMarta'),(2,9,'Re: Rear brake rubbing after wheel change','Different hubs often put the rotor a millimetre further in or out.\n\nLoosen the two caliper bolts, squeeze the brake lever and hold it while you retighten them. That centres the caliper on the new rotor and usually stops the rub.'),(3,8,'Sourdough starter smells like nail varnish','My starter has started smelling sharp, almost like nail varnish remover. It still bubbles, but I\'m worried it\'s gone off. Should I throw it away?'),(4,9,'Re: Sourdough starter smells like nail varnish','That smell just means it\'s hungry. Discard most of it and feed it twice a day for a couple of days, and it should go back to a mild, yoghurty smell. Only throw it out if you see pink or orange streaks or fuzzy mould.'),(5,9,'Wi-Fi drops when the microwave is on','Every time someone heats something in the microwave, my laptop loses the connection. It comes back a minute later. Is the microwave broken?\n\nCheers'),(6,10,'Re: Wi-Fi drops when the microwave is on','Microwaves leak a little energy around 2.4 GHz, the same band as older Wi-Fi. Try connecting to the 5 GHz network if your router has one, or move the router further from the kitchen. If the leak is strong, have the oven checked.'),(7,4,'Tomato leaves curling upwards','The leaves on my greenhouse tomatoes are curling up and inwards like tubes. The plants are still growing and flowering. Is this a disease?'),(8,3,'Re: Tomato leaves curling upwards','Upward leaf roll is often a reaction to heat, strong sun or uneven watering, not a disease. If the new growth looks healthy and the fruit sets, open the vents more on hot days and water more evenly. Twisted, distorted new leaves would be more worrying, since weedkiller drift can cause that.'),(9,9,'First telescope: reflector or refractor?','I have a budget of around 300 and I\'m torn between a small refractor and a 6-inch Dobsonian reflector. I live in a suburb with moderate light pollution. Which would you pick?'),(10,8,'Re: First telescope: reflector or refractor?','For that money, the 6-inch Dobsonian gives you far more aperture, which means brighter views of clusters and galaxies. It\'s bulkier, but setup is just \"put it down and point\". A refractor is handier for quick looks at the Moon and planets, so think about where you\'ll store it and carry it.'),(11,7,'Help: Python script can\'t find my file on Windows','My script says FileNotFoundError for \"C:\\Users\\sam\\Documents\\notes.txt\" but the file is definitely there. I copied the path straight from Explorer. What am I missing?\n\nAny help appreciated!'),(12,10,'Re: Help: Python script can\'t find my file on Windows','In a normal Python string, backslashes start escape sequences, so \"\\n\" in \"\\notes.txt\" becomes a newline.\n\nUse a raw string like r\"C:\\Users\\sam\\Documents\\notes.txt\", forward slashes, or pathlib.Path. All three avoid the problem.'),(13,3,'Dog pulls on the lead constantly','Our rescue greyhound is lovely but pulls like a train on walks. We\'ve tried stopping every time he pulls, but he just waits and then pulls again. Any tips?'),(14,2,'Re: Dog pulls on the lead constantly','Reward him the moment the lead goes slack, every few steps at first, with really tasty treats. Change direction often so he has to pay attention to you, and try a well-fitted harness that clips at the front. It takes weeks, not days, so stay consistent.'),(15,8,'How do I stop rushing when I play piano?','My teacher says I speed up in every fast section. I don\'t notice it until I hear the recording. How can I fix it?'),(16,5,'Re: How do I stop rushing when I play piano?','Practise the fast sections with a metronome at a tempo where you feel bored, then raise it slowly. Counting aloud helps too, because your voice keeps the pulse while your hands are busy. And keep recording: hearing the problem is the first step.'),(17,3,'Cracks in my new cutting board','I made an end-grain cutting board from maple and walnut. After a month, a crack opened along one glue line. Did I use the wrong glue?'),(18,2,'Re: Cracks in my new cutting board','Most likely the board dried out and shrank unevenly, often after washing and then drying near a heater. Use a waterproof glue like Titebond III for boards, and oil them regularly with food-safe mineral oil. Never soak a board or put it in the dishwasher.'),(19,9,'Emergency fund: savings account or premium bonds?','I\'ve finally saved three months of expenses. Should it sit in an easy-access savings account or something with a chance of a bigger return? I don\'t want to lose any of it.'),(20,12,'Re: Emergency fund: savings account or premium bonds?','For an emergency fund, access and safety matter more than return. An easy-access account with a decent rate, covered by deposit protection, is the usual choice. Anything that can fall in value or takes days to withdraw defeats the purpose.'),(21,11,'Burn from a hot pan handle','I grabbed a pan handle straight out of the oven. I\'ve had my hand under the cold tap for five minutes and it still stings. Is that enough?'),(22,1,'Re: Burn from a hot pan handle','Keep cooling it for a full twenty minutes under cool running water, not ice.\n\nThen cover it loosely with cling film. If the burn is larger than your palm, blistering badly, or on a child, get it checked by a nurse or doctor.'),(23,10,'Derailleur hanger alignment tool worth buying?','My bike shop charged me to straighten the hanger twice this year. Is the tool worth buying for home use, or is it a one-off job I should leave to them?'),(24,7,'Re: Derailleur hanger alignment tool worth buying?','If you ride off-road or lean your bike on things a lot, the tool pays for itself quickly. It takes a bit of practice, but it\'s not difficult. Buy a spare hanger at the same time so a bad bend doesn\'t end your weekend.'),(25,8,'Mesh Wi-Fi vs extender','We have a long, narrow house with the router at the front. The back bedroom gets almost nothing. Is a mesh system really better than a cheap extender?'),(26,11,'Re: Mesh Wi-Fi vs extender','In most homes, yes. Extenders often halve the speed and create a second network name, while mesh nodes coordinate with each other and hand devices over smoothly. If you can run a cable to the back of the house, a wired access point beats both.'),(27,10,'Potatoes with green patches','Some of my home-grown potatoes have green patches on the skin. Are they safe to eat if I peel them?\n\nThanks!\n-- Jo'),(28,11,'Re: Potatoes with green patches','The green comes from light exposure and goes along with a bitter toxin called solanine. Cut away all green parts generously; if a potato is green all over or tastes bitter, throw it out. Earth up the plants next year to keep tubers covered.'),(29,11,'Cat stopped using the litter tray','My 10-year-old cat has started peeing beside the litter tray instead of in it. Nothing has changed in the house. Is she upset with me?'),(30,3,'Re: Cat stopped using the litter tray','A sudden change like this in an older cat is often medical, like a urinary infection, kidney problems or arthritis that makes climbing in painful. Please book a vet check first. If she\'s healthy, try a tray with a lower side and unscented litter.'),(31,10,'What does \"undefined\" mean in my JavaScript?','I\'m trying to read a value from an object and I keep getting \"undefined\" even though I can see the key in the console. The key is called \"user name\" with a space.'),(32,1,'Re: What does \"undefined\" mean in my JavaScript?','Keys with spaces can\'t be read with dot notation. Use bracket notation: obj[\"user name\"]. Also check for hidden whitespace or different capitalisation, since keys must match exactly.'),(33,9,'Varnish dried sticky after two days','I brushed polyurethane varnish on a pine shelf in my garage and it\'s still tacky 48 hours later. It\'s around 8 degrees in there. What went wrong?'),(34,2,'Re: Varnish dried sticky after two days','Cold is the likely culprit, since most finishes need at least 10-15 degrees to cure properly.\n\nBring the shelf somewhere warmer and give it a few more days. If it\'s still tacky after that, the coat may have been too thick and may need stripping back.'),(35,1,'Best way to learn chords on guitar?','I know about eight open chords but changing between them is slow and clumsy. Any practice routine that works?'),(36,2,'Re: Best way to learn chords on guitar?','Pick two chords and switch between them for one minute, counting how many clean changes you make. Do a few pairs a day and write down your scores. Within a couple of weeks the changes become automatic, and you can add a third chord.'),(37,4,'Travel adapter for Europe and the UK','I\'m travelling from the US to France and then London. Do I need a voltage converter for my laptop and phone charger, or just a plug adapter?'),(38,5,'Re: Travel adapter for Europe and the UK','Check the label on the charger: if it says \"100-240V\", it works anywhere, and you only need plug adapters for type C/E (France) and type G (UK). Hair dryers and straighteners are often 110V-only, so leave those at home.'),(39,10,'Bread crust too hard','My loaves come out of the oven with a crust so hard that it\'s difficult to slice. I bake at 230 for 40 minutes with steam. How can I get a softer crust?'),(40,1,'Re: Bread crust too hard','For a softer crust, lower the temperature to around 200, skip the steam or remove it earlier, and brush the loaf with milk or melted butter before baking. Let it cool wrapped in a tea towel, which traps some moisture in the crust.');
INSERT INTO `posts` VALUES (41,8,'Credit card statement shows a charge I don\'t recognise','There\'s a small charge on my card from a company name I\'ve never heard of. It\'s only a few pounds. Should I worry?\n\nMany thanks'),(42,6,'Re: Credit card statement shows a charge I don\'t recognise','Search the name first, as many shops use a different business name on statements. If you still can\'t place it, call your card provider using the number on the back of the card. Fraudsters often test a card with small amounts before a bigger purchase.'),(43,8,'Spotting Andromeda from the city?','Is it possible to see the Andromeda Galaxy from a city garden? I\'ve tried with binoculars and can\'t find it.'),(44,10,'Re: Spotting Andromeda from the city?','It\'s tricky but possible on a clear, moonless night. Find the W of Cassiopeia and star-hop from there, or use the two chains of stars in Andromeda. In a city it will look like a faint grey smudge, so let your eyes adapt for twenty minutes first.'),(45,4,'Router keeps rebooting itself','My router restarts every few hours on its own. The lights all go off, then come back on. I\'ve already done a factory reset.'),(46,9,'Re: Router keeps rebooting itself','Check that it isn\'t overheating: it should stand upright with space around the vents. A failing power adapter is another common cause, so try a spare of the same voltage and polarity. If it\'s the provider\'s router, ask them for a replacement.'),(47,4,'Kitten bites my feet under the duvet','Our 4-month-old kitten attacks our feet every morning. It\'s funny now but won\'t be when she\'s grown. How do we stop it?'),(48,11,'Re: Kitten bites my feet under the duvet','She\'s practising hunting, so give her a better target.\n\nPlay with a wand toy for ten minutes before bed and in the morning, and keep your feet still when she pounces, since moving prey is more exciting. Never use your hands or feet as toys.'),(49,5,'Git says \"detached HEAD\". Did I break something?','I checked out an old commit to look at something and now git says I\'m in a \"detached HEAD\" state. Have I lost my work?'),(50,8,'Re: Git says \"detached HEAD\". Did I break something?','No, your work is safe. Detached HEAD just means you\'re looking at a specific commit instead of a branch. Run git switch main (or your branch name) to go back. If you made commits while detached, create a branch first so you can find them again.'),(51,1,'Chisel won\'t hold an edge','I sharpen my cheap chisels but after a few cuts in oak they\'re dull again. Is it the steel or my sharpening?'),(52,11,'Re: Chisel won\'t hold an edge','Could be either. Very cheap chisels are sometimes too soft to hold a fine edge. But a micro-bevel at about 30 degrees helps the edge last longer, and make sure you remove the burr completely. Try one good chisel in your most-used size and compare.'),(53,2,'Seed potatoes sprouting early','My seed potatoes have sprouted long white shoots in the cupboard, and it\'s still too cold to plant. What should I do?'),(54,8,'Re: Seed potatoes sprouting early','Set them out in egg boxes, eyes up, in a cool, bright room. This is called chitting, and the light turns the shoots short, green and sturdy. Rub off the long pale shoots, since they\'ll break off anyway when you plant.'),(55,11,'Headphones for practising electric drums','I\'ve got an electronic drum kit for my flat. Do I need special headphones, or will my earbuds do?'),(56,5,'Re: Headphones for practising electric drums','Closed-back over-ear headphones are better, as they block the acoustic sound of the pads and let you play at a lower volume. Earbuds often lack bass for kick drums. And remember the pads still make noise, so a drum mat helps your neighbours.'),(57,7,'Can I use my debit card abroad?','I\'m going to Spain for a week. Will my normal debit card work, and are there fees?'),(58,9,'Re: Can I use my debit card abroad?','It will almost certainly work, but many banks add a foreign transaction fee of around 3%, plus a cash withdrawal charge. Check your bank\'s fee page. When a card machine asks whether to pay in euros or pounds, always choose euros.'),(59,2,'Puppy cries in the crate at night','Our new puppy cries for hours in her crate. We\'ve been told to ignore her but it\'s heartbreaking. What do we do?\n\nThanks, all.'),(60,12,'Re: Puppy cries in the crate at night','For the first week or two, put the crate next to your bed so she can hear and smell you. Take her out to the toilet once in the night if she\'s very young, calmly and without play. Move the crate gradually to its final spot once she settles.'),(61,5,'Hot water tap runs cold after a minute','Our hot water comes out hot for about a minute and then goes lukewarm. The boiler is a combi. Any ideas?'),(62,6,'Re: Hot water tap runs cold after a minute','On a combi, this often means low water pressure in the system, a partly blocked filter, or a faulty diverter valve.\n\nCheck the pressure gauge first: it usually should be around 1 to 1.5 bar. If that\'s fine, call a registered engineer rather than opening the boiler.'),(63,4,'SQL query returns duplicates','My query joining orders and customers returns each order twice. I only want one row per order. Do I just add DISTINCT?'),(64,9,'Re: SQL query returns duplicates','DISTINCT hides the symptom, but find the cause first. Usually one side of the join has more than one matching row, such as a customer with two addresses. Check the join condition and whether you need an extra filter, like only the current address.'),(65,5,'Train vs bus across Scotland','Planning a trip from Edinburgh to Inverness and then Fort William. Is the train or the bus better for scenery?'),(66,1,'Re: Train vs bus across Scotland','The train from Edinburgh to Inverness is lovely through the Cairngorms, and the line from Fort William to Mallaig is famous for a reason. Between Inverness and Fort William, the bus along Loch Ness is the practical choice and the views are good too.'),(67,2,'Sticky piano key','The E above middle C on my upright piano stays down after I press it and comes back up slowly. Can I fix this myself?'),(68,10,'Re: Sticky piano key','It\'s often humidity making the wood swell, or something dropped between the keys. Check for coins or pencils first. If it\'s the wood, a technician can ease the key bushing in minutes; please don\'t spray lubricant into the action.'),(69,2,'Fertilising lawn in autumn','Should I feed my lawn in autumn or is that a waste of money? Our lawn looks thin after the summer.'),(70,7,'Re: Fertilising lawn in autumn','An autumn feed is worthwhile, but make sure it\'s an autumn formula that\'s low in nitrogen and higher in potassium, which strengthens roots for winter. Overseed the thin patches at the same time while the soil is still warm.');
/*!40000 ALTER TABLE `posts` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `users`
--

DROP TABLE IF EXISTS `users`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `users` (
  `id` int NOT NULL AUTO_INCREMENT,
  `username` varchar(64) NOT NULL,
  `email` varchar(255) NOT NULL,
  `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`)
) ENGINE=InnoDB AUTO_INCREMENT=13 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `users`
--

LOCK TABLES `users` WRITE;
/*!40000 ALTER TABLE `users` DISABLE KEYS */;
INSERT INTO `users` VALUES (1,'marta_k','marta.k@example.org','2022-11-03 18:22:41'),(2,'wheelsmith','wheelsmith@example.net','2022-11-05 07:40:12'),(3,'crumb_and_crust','bakes@example.com','2022-12-14 21:03:55'),(4,'signal_strength','ss@example.org','2023-01-09 12:15:00'),(5,'greenfingers77','gf77@example.com','2023-02-21 09:31:18'),(6,'darksky_dan','dan.observes@example.net','2023-03-02 23:47:09'),(7,'sam_codes','sam@example.org','2023-03-17 16:05:33'),(8,'two_paws','twopaws@example.com','2023-04-28 10:10:10'),(9,'keys_and_strings','kas@example.org','2023-05-30 19:58:44'),(10,'sawdust_jo','jo.sawdust@example.net','2023-06-11 08:27:16'),(11,'penny_wise','pw@example.com','2023-07-19 14:44:02'),(12,'nomad_lena','lena.travels@example.org','2023-08-23 06:12:59');
/*!40000 ALTER TABLE `users` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2024-03-02 10:15:42
